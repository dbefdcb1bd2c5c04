"""SpectraIngest: Beam ingestion of FITS spectra into preprocessed tf.Example splits."""

from .component import SpectraIngest
from .fingerprint import count_inputs, fingerprint_inputs
from .spec import SpectraIngestSpec

__all__ = ["SpectraIngest", "SpectraIngestSpec", "count_inputs", "fingerprint_inputs"]
