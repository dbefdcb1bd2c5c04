"""Virtual Observatory clients: spectra from SSAP/DataLink services, cross-matches over TAP.

TensorFlow- and TFX-free. pyvo is imported where a query runs.
"""
