"""Names of the tf.Example features written by ingestion and read by the model.

One place for the contract between the ingestion component, the schemas in
``pipeline/schema/labelled/schema.pbtxt`` and ``pipeline/schema/pool/schema.pbtxt``,
the Trainer module, the serving signatures and the pool scorer.
"""

#: Preprocessed flux on the common grid, float_list of length ``GRID_POINTS``.
FLUX = "flux"
#: Stable spectrum identifier (bytes).
SPECTRUM_ID = "spectrum_id"
#: Designation / object name (bytes, may be empty).
DESIGNATION = "designation"
#: ICRS coordinates in degrees (float; NaN when unknown).
RA = "ra"
DEC = "dec"
#: S/N near H-alpha (float; NaN when unknown).
SNR = "snr"
#: "LAMOST" / "Ondrejov" (bytes).
SURVEY = "survey"
#: Detected file layout, e.g. "lamost-lrs-dr2" (bytes).
LAYOUT = "layout"
#: Path of the source FITS file (bytes).
SOURCE = "source"
#: Class index into the configured class names (int64); only labelled examples.
LABEL = "label"

#: Features every example carries, labelled or not.
COMMON_FEATURES = (FLUX, SPECTRUM_ID, DESIGNATION, RA, DEC, SNR, SURVEY, LAYOUT, SOURCE)
