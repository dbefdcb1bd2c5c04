"""SpectraIngest: Beam ingestion of FITS spectra into preprocessed tf.Example splits."""

from components import lazy_exports

__all__, __getattr__ = lazy_exports(
    __name__,
    {
        "SpectraIngest": "component",
        "SpectraIngestSpec": "spec",
        "count_inputs": "fingerprint",
        "fingerprint_inputs": "fingerprint",
    },
)
