"""SpectraIngest: Beam ingestion of FITS spectra into preprocessed tf.Example splits."""

from .component import SpectraIngest
from .fingerprint import fingerprint_inputs
from .spec import SpectraIngestSpec

__all__ = ["SpectraIngest", "SpectraIngestSpec", "fingerprint_inputs"]
