"""Serving export: signatures, TF Serving directory layouts, loader errors and TFMA."""

import shutil

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
import tf_keras

from activespec import errors, uncertainty
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
    assert set(loaded.signatures) == {
        "serving_default",
        "predict_flux",
        "predict_flux_mc",
        "embed_flux",
    }
    mc_inputs = loaded.signatures["predict_flux_mc"].structured_input_signature[1]
    assert mc_inputs == {
        "flux": tf.TensorSpec([None, 140], tf.float32, name="flux"),
        "passes": tf.TensorSpec([], tf.int32, name="passes"),
        "seed": tf.TensorSpec([], tf.int64, name="seed"),
    }
    mc_outputs = loaded.signatures["predict_flux_mc"].structured_outputs
    assert mc_outputs["bald"].shape.as_list() == [None]
    assert mc_outputs["mean_probabilities"].shape.as_list() == [None, 3]
    embed_outputs = loaded.signatures["embed_flux"].structured_outputs
    assert embed_outputs["embedding"].shape.as_list() == [None, 512]
    assert set(serving.read_model_metadata(exported)["signatures"]) == set(loaded.signatures)
    assert sorted(serving.saved_model_signature_names(exported)) == sorted(loaded.signatures)
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


def _numpy_mc_dropout(model, flux, passes, seed):
    """Reference MC dropout of the published CNN in NumPy: the Keras trunk up to
    ``flatten`` in inference mode, then the dense head with the documented masks."""
    trunk = tf_keras.Model(model.inputs, model.get_layer("flatten").output)
    hidden = trunk(flux, training=False).numpy().astype(np.float64)
    dense = [model.get_layer(name).get_weights() for name in ("dense1", "dense2", "probabilities")]
    rate = model.get_layer("dropout1").rate
    per_pass = []
    for t in range(passes):
        x = hidden
        for index, (weights, bias) in enumerate(dense[:2]):
            x = np.maximum(x @ weights + bias, 0.0)
            mask = export.mc_dropout_keep_mask([x.shape[1]], rate, seed, t, index).numpy()
            x = x * mask / (1.0 - rate)
        logits = x @ dense[2][0] + dense[2][1]
        logits -= logits.max(axis=1, keepdims=True)
        per_pass.append(np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True))
    return np.stack(per_pass)


def test_bald_signature_equals_a_numpy_reference(trained_model, exported, spectra):
    model, _ = trained_model
    flux, _, _ = spectra
    loaded = serving.load_model_dir(exported)
    probabilities, mean_p, bald = loaded.predict_flux_mc(flux, passes=7, seed=11)
    per_pass = _numpy_mc_dropout(model, flux, 7, 11)
    np.testing.assert_allclose(mean_p, per_pass.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(bald, uncertainty.bald(per_pass), atol=1e-5)
    # The inference-mode probabilities are those of predict_flux; the passes differ from them.
    np.testing.assert_allclose(probabilities, loaded.predict_flux(flux), atol=1e-6)
    assert np.abs(per_pass[0] - per_pass[1]).max() > 1e-3
    assert bald.dtype == np.float32 and bald.shape == (60,) and (bald >= 0).all()
    assert bald.max() > 0


def test_bald_is_reproducible_for_a_seed_and_independent_of_the_batch(exported, spectra):
    flux, _, _ = spectra
    model = serving.load_model_dir(exported)
    _, _, bald = model.predict_flux_mc(flux, passes=5, seed=3)
    _, _, again = model.predict_flux_mc(flux, passes=5, seed=3, batch_size=7)
    np.testing.assert_allclose(again, bald, atol=1e-6)
    _, _, reversed_order = model.predict_flux_mc(flux[::-1], passes=5, seed=3)
    np.testing.assert_allclose(reversed_order[::-1], bald, atol=1e-6)
    _, _, other_seed = model.predict_flux_mc(flux, passes=5, seed=4)
    assert np.abs(other_seed - bald).max() > 1e-6
    with pytest.raises(errors.ConfigError, match="passes"):
        model.predict_flux_mc(flux, passes=0)
    empty = model.predict_flux_mc(np.zeros((0, 140)))
    assert [a.shape for a in empty] == [(0, 3), (0, 3), (0,)]


def test_embedding_is_the_last_dense_layer(trained_model, exported, spectra):
    model, _ = trained_model
    flux, _, _ = spectra
    loaded = serving.load_model_dir(exported)
    probabilities, embedding = loaded.embed_flux(flux, batch_size=16)
    penultimate = tf_keras.Model(model.inputs, model.get_layer("dense2").output)
    np.testing.assert_allclose(embedding, penultimate(flux, training=False).numpy(), atol=1e-5)
    np.testing.assert_allclose(probabilities, loaded.predict_flux(flux), atol=1e-6)
    assert embedding.shape == (60, 512)
    assert loaded.embed_flux(np.zeros((0, 140)))[1].shape == (0, 512)


def test_mc_dropout_keeps_batch_normalisation_in_inference_mode(tmp_path):
    """Dense -> Dropout -> BatchNorm -> softmax: BatchNorm runs on its moving statistics in
    every pass (in training mode it would normalise by the batch's statistics)."""
    tf_keras.utils.set_random_seed(0)
    layers = tf_keras.layers
    inputs = tf_keras.Input((140,), name="flux")
    x = layers.Dense(16, activation="relu", name="dense")(inputs)
    x = layers.Dropout(0.3, name="dropout")(x)
    x = layers.BatchNormalization(name="norm")(x)
    outputs = layers.Dense(3, activation="softmax", name="probabilities")(x)
    model = tf_keras.Model(inputs, outputs)
    norm = model.get_layer("norm")
    rng = np.random.default_rng(1)
    gamma, beta = rng.uniform(0.5, 2, 16), rng.normal(size=16)
    moving_mean, moving_var = rng.normal(size=16), rng.uniform(0.5, 3, 16)
    norm.set_weights([gamma, beta, moving_mean, moving_var])
    export.export_serving_model(model, str(tmp_path / "bn"), class_names=DEFAULT_CLASSES)
    flux = rng.uniform(-1, 1, (40, 140)).astype(np.float32)
    _, mean_p, bald = serving.load_model_dir(str(tmp_path / "bn")).predict_flux_mc(
        flux, passes=4, seed=9
    )

    hidden = model.get_layer("dense")(flux).numpy().astype(np.float64)
    weights, bias = model.get_layer("probabilities").get_weights()
    per_pass = []
    for t in range(4):
        mask = export.mc_dropout_keep_mask([16], 0.3, 9, t, 0).numpy()
        x = hidden * mask / 0.7
        x = gamma * (x - moving_mean) / np.sqrt(moving_var + norm.epsilon) + beta
        logits = x @ weights + bias
        per_pass.append(np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True))
    per_pass = np.stack(per_pass)
    np.testing.assert_allclose(mean_p, per_pass.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(bald, uncertainty.bald(per_pass), atol=1e-5)


def test_a_model_exported_without_the_new_signatures_is_refused_clearly(
    trained_model, tmp_path, monkeypatch, spectra
):
    """As a model exported before MC dropout existed: the plain signatures only."""
    model, class_names = trained_model
    monkeypatch.setattr(export, "layer_chain", lambda _model: None)
    old = export.export_serving_model(model, str(tmp_path / "old"), class_names=class_names)
    assert sorted(serving.saved_model_signature_names(old)) == ["predict_flux", "serving_default"]
    loaded = serving.load_model_dir(old)
    flux, _, _ = spectra
    assert loaded.predict_flux(flux).shape == (60, 3)
    with pytest.raises(serving.ModelLoadError, match="no 'predict_flux_mc' signature.*older"):
        loaded.predict_flux_mc(flux)
    with pytest.raises(serving.ModelLoadError, match="no 'embed_flux' signature"):
        loaded.embed_flux(flux)


def test_only_chains_with_plain_dropout_get_the_uncertainty_signatures():
    from models.cnn import build_cnn

    assert [type(layer).__name__ for layer in export.layer_chain(build_cnn())][-3:] == [
        "Dense",
        "Dropout",
        "Dense",
    ]
    inputs = tf_keras.Input((140,))
    left = tf_keras.layers.Dense(4)(inputs)
    right = tf_keras.layers.Dense(4)(inputs)
    branched = tf_keras.Model(
        inputs, tf_keras.layers.Dense(3)(tf_keras.layers.Concatenate()([left, right]))
    )
    assert export.layer_chain(branched) is None
    noisy = tf_keras.Sequential(
        [tf_keras.Input((140,)), tf_keras.layers.GaussianDropout(0.2), tf_keras.layers.Dense(3)]
    )
    assert export.layer_chain(noisy) is None


def test_in_memory_helpers_compute_what_the_signatures_do(trained_model, exported, spectra):
    model, _ = trained_model
    flux, _, _ = spectra
    loaded = serving.load_model_dir(exported)
    for live, signature in zip(
        export.mc_dropout_predict(model, flux, passes=3, seed=2, batch_size=16),
        loaded.predict_flux_mc(flux, passes=3, seed=2),
        strict=True,
    ):
        np.testing.assert_allclose(live, signature, atol=1e-5)
    for live, signature in zip(export.embed(model, flux), loaded.embed_flux(flux), strict=True):
        np.testing.assert_allclose(live, signature, atol=1e-5)
    with pytest.raises(errors.ConfigError, match="passes"):
        export.mc_dropout_predict(model, flux, passes=0)
