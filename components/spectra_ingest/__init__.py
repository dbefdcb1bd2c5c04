"""SpectraIngest: Beam ingestion of FITS spectra into preprocessed tf.Example splits."""

from .component import SpectraIngest, SpectraIngestSpec
from .fingerprint import fingerprint_inputs

__all__ = ["SpectraIngest", "SpectraIngestSpec", "fingerprint_inputs"]
