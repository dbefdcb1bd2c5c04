"""The gRPC Predict contract (PredictRequest/PredictResponse protos) and the TF Serving
warm-up file written next to the exported model."""

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

from activespec.constants import DEFAULT_CLASSES, H_ALPHA_VACUUM
from activespec.preprocessing import PreprocessConfig, common_grid
from components.spectra_ingest.encoding import serialize_example
from models import export


def _serve(request_bytes: bytes, signatures) -> bytes:
    """What the model server does with a serialized PredictRequest."""
    request = predict_pb2.PredictRequest.FromString(request_bytes)
    signature = signatures[request.model_spec.signature_name or "serving_default"]
    inputs = {
        name: tf.constant(tf.make_ndarray(proto), dtype=proto.dtype)
        for name, proto in request.inputs.items()
    }
    response = predict_pb2.PredictResponse()
    response.model_spec.CopyFrom(request.model_spec)
    for name, tensor in signature(**inputs).items():
        response.outputs[name].CopyFrom(tf.make_tensor_proto(tensor.numpy()))
    return response.SerializeToString()


def _check_response(response: predict_pb2.PredictResponse, n: int) -> np.ndarray:
    probabilities = tf.make_ndarray(response.outputs["probabilities"])
    class_names = tf.make_ndarray(response.outputs["class_names"]).astype(str)
    predicted = tf.make_ndarray(response.outputs["predicted_class"]).astype(str)
    assert probabilities.shape == (n, len(DEFAULT_CLASSES)) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (class_names == np.array(DEFAULT_CLASSES)).all() and class_names.shape[0] == n
    np.testing.assert_array_equal(predicted, np.array(DEFAULT_CLASSES)[probabilities.argmax(1)])
    return probabilities


def test_predict_requests_for_both_signatures(signatures, real_spectra):
    sigs, _ = signatures
    vectors = np.stack([v for _, _, v in real_spectra])
    examples = [serialize_example(s, v, source=p) for p, s, v in real_spectra]

    by_examples = predict_pb2.PredictRequest()
    by_examples.model_spec.name = "activespec"
    by_examples.model_spec.signature_name = "serving_default"
    by_examples.inputs["examples"].CopyFrom(tf.make_tensor_proto(examples, dtype=tf.string))
    by_flux = predict_pb2.PredictRequest()
    by_flux.model_spec.name = "activespec"
    by_flux.model_spec.signature_name = "predict_flux"
    by_flux.inputs["flux"].CopyFrom(tf.make_tensor_proto(vectors, dtype=tf.float32))

    results = []
    for request in (by_examples, by_flux):
        response = predict_pb2.PredictResponse.FromString(_serve(request.SerializeToString(), sigs))
        assert response.model_spec.signature_name == request.model_spec.signature_name
        results.append(_check_response(response, len(vectors)))
    np.testing.assert_allclose(results[0], results[1], atol=1e-6)
    # Different real spectra get different answers: the inputs really reached the model.
    assert np.ptp(results[1], axis=0).max() > 1e-3


def _warmup_logs(model_dir) -> list[prediction_log_pb2.PredictionLog]:
    path = str(model_dir / export.ASSETS_EXTRA_DIR / export.WARMUP_FILE)
    return [
        prediction_log_pb2.PredictionLog.FromString(record.numpy())
        for record in tf.data.TFRecordDataset(path)
    ]


def test_warmup_file_replays_through_both_signatures(signatures, serving_base):
    sigs, _ = signatures
    logs = _warmup_logs(serving_base / "1")
    assert 0 < len(logs) <= 1000  # TF Serving's limit
    assert all(log.WhichOneof("log_type") == "predict_log" for log in logs)
    requests = [log.predict_log.request for log in logs]
    assert {r.model_spec.signature_name for r in requests} == {"serving_default", "predict_flux"}

    probabilities = {}
    for request in requests:
        name = request.model_spec.signature_name
        assert set(request.inputs) == {"examples" if name == "serving_default" else "flux"}
        response = predict_pb2.PredictResponse.FromString(_serve(request.SerializeToString(), sigs))
        batch = tf.make_ndarray(next(iter(request.inputs.values()))).shape[0]
        probabilities.setdefault(name, {})[batch] = _check_response(response, batch)
    # Single and batched requests for each signature, the same spectra for both.
    assert set(probabilities["serving_default"]) == set(probabilities["predict_flux"]) == {1, 3}
    for batch in (1, 3):
        np.testing.assert_allclose(
            probabilities["serving_default"][batch],
            probabilities["predict_flux"][batch],
            atol=1e-6,
        )


def test_warmup_spectra_follow_the_model_preprocessing(serving_base, robust_base):
    for base, config in (
        (serving_base, PreprocessConfig()),
        (robust_base, PreprocessConfig(scaling="robust")),
    ):
        flux_requests = [
            log.predict_log.request
            for log in _warmup_logs(base / "1")
            if log.predict_log.request.model_spec.signature_name == "predict_flux"
        ]
        batched = max(
            (tf.make_ndarray(r.inputs["flux"]) for r in flux_requests), key=lambda a: len(a)
        )
        np.testing.assert_array_equal(batched, export.warmup_flux(config))
    assert not np.allclose(
        export.warmup_flux(PreprocessConfig()),
        export.warmup_flux(PreprocessConfig(scaling="robust")),
    )


def test_warmup_spectra_are_h_alpha_profiles():
    config = PreprocessConfig()
    grid = common_grid(config.grid_start, config.grid_stop, config.n_points)
    absorption, emission, double = export.warmup_flux(config)
    for row in (absorption, emission, double):
        assert row.shape == (140,) and row.dtype == np.float32
        assert row.min() == pytest.approx(-1.0) and row.max() == pytest.approx(1.0)
    line = np.abs(grid - H_ALPHA_VACUUM) < 8.0
    far = np.abs(grid - H_ALPHA_VACUUM) > 40.0
    # Continuum far from the line; absorption dips below it, emission rises above it.
    assert absorption[line].min() == absorption.min() < absorption[far].mean() - 1.0
    assert emission[line].max() == emission.max() > emission[far].mean() + 1.0
    # Two peaks either side of the line centre with a dip between them.
    blue = double[(grid > H_ALPHA_VACUUM - 8) & (grid < H_ALPHA_VACUUM)].max()
    red = double[(grid > H_ALPHA_VACUUM) & (grid < H_ALPHA_VACUUM + 8)].max()
    centre = double[np.argmin(np.abs(grid - H_ALPHA_VACUUM))]
    assert min(blue, red) > centre + 0.3
    # Without scaling the continuum stays at 1.
    unscaled = export.warmup_flux(PreprocessConfig(scaling="none"))
    np.testing.assert_allclose(unscaled[:, far], 1.0, atol=1e-6)
