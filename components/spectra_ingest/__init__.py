"""SpectraIngest: Beam ingestion of FITS spectra into preprocessed tf.Example splits."""

from components import lazy_exports

_EXPORTS = {
    "SpectraIngest": "component",
    "SpectraIngestSpec": "spec",
    "count_inputs": "fingerprint",
    "fingerprint_inputs": "fingerprint",
}
__all__ = list(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
