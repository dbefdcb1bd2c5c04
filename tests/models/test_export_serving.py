"""Serving export: signatures, TF Serving directory layouts, loader errors and TFMA."""

import shutil

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
import tf_keras

from activespec import errors
from activespec.constants import DEFAULT_CLASSES
from models import export, serving
from tests.models import simulated


@pytest.fixture(scope="module")
def trained_model():
    model, class_names = simulated.train_quick_model(n=600, epochs=3)
    return model, class_names


@pytest.fixture(scope="module")
def exported(trained_model, tmp_path_factory):
    model, class_names = trained_model
    export_dir = str(tmp_path_factory.mktemp("export") / "model")
    export.export_serving_model(model, export_dir, class_names=class_names)
    return export_dir


@pytest.fixture(scope="module")
def spectra():
    rng = np.random.default_rng(5)
    flux, labels = simulated.simulate_labelled(60, rng)
    return flux, labels, simulated.make_examples(flux, labels)


def test_signatures_have_the_documented_interface(exported):
    loaded = tf.saved_model.load(exported)
    assert set(loaded.signatures) == {"serving_default", "predict_flux"}
    serving_inputs = loaded.signatures["serving_default"].structured_input_signature[1]
    assert serving_inputs == {"examples": tf.TensorSpec([None], tf.string, name="examples")}
    flux_inputs = loaded.signatures["predict_flux"].structured_input_signature[1]
    assert flux_inputs == {"flux": tf.TensorSpec([None, 140], tf.float32, name="flux")}
    for name in ("serving_default", "predict_flux"):
        outputs = loaded.signatures[name].structured_outputs
        assert outputs["probabilities"].dtype == tf.float32
        assert outputs["class_names"].dtype == tf.string
        assert outputs["predicted_class"].dtype == tf.string


def test_outputs_match_the_keras_model(trained_model, exported, spectra):
    model, class_names = trained_model
    flux, _, records = spectra
    loaded = tf.saved_model.load(exported)
    expected = model.predict(flux, verbose=0)
    by_flux = loaded.signatures["predict_flux"](flux=tf.constant(flux))
    by_example = loaded.signatures["serving_default"](
        examples=tf.constant([r.SerializeToString() for r in records])
    )
    for outputs in (by_flux, by_example):
        np.testing.assert_allclose(outputs["probabilities"].numpy(), expected, atol=1e-5)
        names = outputs["class_names"].numpy().astype(str)
        assert names.shape == (60, 3) and (names == np.array(class_names)).all()
        predicted = outputs["predicted_class"].numpy().astype(str)
        np.testing.assert_array_equal(predicted, np.array(class_names)[expected.argmax(axis=1)])


def test_keras_can_reload_the_export_as_tfma_does(exported, spectra):
    reloaded = tf_keras.models.load_model(exported)
    assert isinstance(reloaded, tf_keras.Model)
    assert tfma.utils.model_util.get_model_type(None, exported) == tfma.constants.TF_KERAS


def test_tfma_evaluates_the_export_with_prediction_and_label_keys(exported, spectra, tmp_path):
    flux, labels, records = spectra
    data = simulated.write_tfrecord_gz(str(tmp_path / "eval.tfrecord.gz"), records)
    eval_config = tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name="serving_default", prediction_key="probabilities", label_key="label"
            )
        ],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[
            tfma.MetricsSpec(
                metrics=[
                    tfma.MetricConfig(class_name="ExampleCount"),
                    tfma.MetricConfig(class_name="SparseCategoricalAccuracy"),
                ]
            )
        ],
    )
    shared_model = tfma.default_eval_shared_model(exported, eval_config=eval_config)
    result = tfma.run_model_analysis(
        eval_shared_model=shared_model,
        eval_config=eval_config,
        data_location=data,
        file_format="tfrecords",
        output_path=str(tmp_path / "tfma"),
    )
    metrics = result.slicing_metrics[0][1][""][""]
    assert metrics["example_count"]["doubleValue"] == 60
    expected = np.mean(serving.load_model_dir(exported).predict_flux(flux).argmax(1) == labels)
    assert metrics["sparse_categorical_accuracy"]["doubleValue"] == pytest.approx(expected)


def test_export_refuses_mismatched_class_names(trained_model, tmp_path):
    model, _ = trained_model
    with pytest.raises(errors.ConfigError, match="3 outputs but 2 class names"):
        export.export_serving_model(model, str(tmp_path / "m"), class_names=["a", "b"])
    with pytest.raises(errors.ConfigError, match="n_points"):
        export.export_serving_model(
            model, str(tmp_path / "m"), class_names=DEFAULT_CLASSES, n_points=141
        )


def test_loader_accepts_saved_model_tfx_and_serving_layouts(exported, tmp_path):
    # TF Serving base directory: versions compare as numbers (10 > 9 > 2).
    base = tmp_path / "serving"
    for version in ("2", "9", "10"):
        shutil.copytree(exported, base / version)
    (base / "11-incomplete").mkdir()
    (base / "12").mkdir()  # a version directory without a SavedModel is skipped
    assert serving.resolve_saved_model_dir(str(base)) == str(base / "10")
    # TFX Model artifact directory.
    artifact = tmp_path / "artifact"
    shutil.copytree(exported, artifact / "Format-Serving")
    assert serving.resolve_saved_model_dir(str(artifact)) == str(artifact / "Format-Serving")

    for location in (exported, str(base), str(artifact)):
        model = serving.load_model_dir(location)
        assert model.class_names == DEFAULT_CLASSES
        assert model.n_points == 140


def test_batched_prediction_equals_one_call(exported, spectra):
    flux, _, records = spectra
    model = serving.load_model_dir(exported)
    whole = model.predict_flux(flux, batch_size=4096)
    np.testing.assert_allclose(model.predict_flux(flux, batch_size=7), whole, atol=1e-6)
    np.testing.assert_allclose(
        model.predict_examples([r.SerializeToString() for r in records], batch_size=11),
        whole,
        atol=1e-6,
    )
    assert model.predict_flux(np.zeros((0, 140))).shape == (0, 3)


def test_loader_errors_are_typed(exported, tmp_path):
    with pytest.raises(serving.ModelLoadError, match="does not exist"):
        serving.load_model_dir(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(serving.ModelLoadError, match="no SavedModel"):
        serving.load_model_dir(str(tmp_path / "empty"))
    # A SavedModel without our signatures.
    plain = tf_keras.Sequential([tf_keras.Input((140,)), tf_keras.layers.Dense(3)])
    tf.saved_model.save(plain, str(tmp_path / "plain"))
    with pytest.raises(serving.ModelLoadError, match="predict_flux"):
        serving.load_model_dir(str(tmp_path / "plain"))
    assert issubclass(serving.ModelLoadError, errors.ActivespecError)

    model = serving.load_model_dir(exported)
    with pytest.raises(errors.WrongShapeError, match=r"\[N, 140\]"):
        model.predict_flux(np.zeros((4, 139)))
    bad = np.zeros((4, 140))
    bad[2, 17] = np.nan
    with pytest.raises(errors.RejectedSpectrum, match="1 row"):
        model.predict_flux(bad)
