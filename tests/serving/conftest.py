"""One small CNN for the serving tests, exported in the TF Serving layout (``<base>/1``),
once with the default preprocessing record and once with robust scaling.

The contract tests need a real SavedModel, not an accurate one, so the network is freshly
built (training it would cost tens of seconds of tracing); its output layer is sharpened so
that different spectra get clearly different probabilities, which the tests compare.
"""

import numpy as np
import pytest
import tensorflow as tf

from activespec.constants import DEFAULT_CLASSES
from activespec.io import read_spectrum
from activespec.preprocessing import PreprocessConfig, preprocess
from models import export
from models.cnn import build_cnn
from tests.models import simulated

#: Real files of every layout (LRS DR1/DR2+/gzip, MRS, Ondřejov); all pass preprocessing.
REAL_FILES = (
    "lamost/spec-55862-B6212_sp06-018.fits",
    "lamost/spec-55862-B6212_sp06-115.fits",
    "lamost/spec-55916-B5591606_sp01-001.fits",
    "lamost/spec-56257-GAC089N38V2_sp01-005.fits",
    "lamost/spec-57287-KP193637N444141V03_sp10-161.fits.gz",
    "lamost/med-58408-TD230151N343645T01_sp01-015.fits",
    "ondrejov/oe270005.fits",
)
#: A real LAMOST file whose H-alpha window is entirely masked: preprocessing rejects it.
REJECTED_FILE = "lamost/spec-55862-B6212_sp06-145.fits"


@pytest.fixture(scope="session")
def small_model():
    tf.keras.utils.set_random_seed(3)
    model = build_cnn(filters=(8, 16, 32), dense_units=(32,), dropout=0.0)
    output_layer = model.get_layer("probabilities")
    kernel, bias = output_layer.get_weights()
    output_layer.set_weights([30.0 * kernel, bias])
    # Check the premise of the comparisons: simulated spectra get distinct answers.
    flux, _ = simulated.simulate_labelled(64, np.random.default_rng(3))
    assert model(flux).numpy().std(axis=0).max() > 0.05
    return model


@pytest.fixture(scope="session")
def serving_base(small_model, tmp_path_factory):
    """A TF Serving base directory holding version 1, default preprocessing."""
    base = tmp_path_factory.mktemp("serving_model")
    export.export_serving_model(small_model, str(base / "1"), class_names=DEFAULT_CLASSES)
    return base


@pytest.fixture(scope="session")
def robust_base(small_model, tmp_path_factory):
    """The same weights, exported as trained on robust-scaled spectra."""
    base = tmp_path_factory.mktemp("robust_model")
    export.export_serving_model(
        small_model,
        str(base / "1"),
        class_names=DEFAULT_CLASSES,
        preprocessing=PreprocessConfig(scaling="robust"),
    )
    return base


@pytest.fixture(scope="session")
def signatures(serving_base):
    """The loaded SavedModel's signatures, as TF Serving sees them."""
    loaded = tf.saved_model.load(str(serving_base / "1"))
    # Keep the object alive: the signatures reference its variables.
    return loaded.signatures, loaded


@pytest.fixture(scope="session")
def real_paths(real_dir):
    return [str(real_dir / name) for name in REAL_FILES]


@pytest.fixture(scope="session")
def real_spectra(real_paths):
    """(path, spectrum, vector) with the default preprocessing, degrading spectra sharper
    than the model as ingestion of the labelled instrument does."""
    config = PreprocessConfig()
    out = []
    for path in real_paths:
        spectrum = read_spectrum(path)
        degrade = spectrum.meta.resolving_power > config.target_resolving_power
        out.append((path, spectrum, preprocess(spectrum, config, degrade=degrade)))
    return out
