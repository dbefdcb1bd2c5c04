"""The REST Predict contract of docs/serving.md, run against the exported SavedModel with
request bodies built from real FITS files."""

import base64
import json
import pathlib
import re

import numpy as np
import pytest
import tensorflow as tf

from activespec.constants import DEFAULT_CLASSES
from components.spectra_ingest.encoding import serialize_example
from tests.serving import rest

DOCS = pathlib.Path(__file__).parents[2] / "docs" / "serving.md"


def _b64_instances(real_spectra):
    return [
        {"b64": base64.b64encode(serialize_example(s, v, source=p)).decode()}
        for p, s, v in real_spectra
    ]


def _probabilities(response) -> np.ndarray:
    if "predictions" in response:
        return np.array([row["probabilities"] for row in response["predictions"]])
    return np.array(response["outputs"]["probabilities"])


def _check_rows(predictions, n):
    assert len(predictions) == n
    for row in predictions:
        assert set(row) == {"probabilities", "class_names", "predicted_class"}
        assert row["class_names"] == list(DEFAULT_CLASSES)
        assert sum(row["probabilities"]) == pytest.approx(1.0, abs=1e-5)
        assert min(row["probabilities"]) >= 0.0
        assert row["predicted_class"] == DEFAULT_CLASSES[int(np.argmax(row["probabilities"]))]


def test_serving_default_with_b64_examples_of_real_spectra(signatures, real_spectra):
    sigs, _ = signatures
    body = {"signature_name": "serving_default", "instances": _b64_instances(real_spectra)}
    response = rest.predict(body, sigs)
    _check_rows(response["predictions"], len(real_spectra))
    # The in-graph parse of the ingestion record gives the vector the ingestion made.
    vectors = np.stack([v for _, _, v in real_spectra])
    direct = sigs["predict_flux"](flux=tf.constant(vectors))["probabilities"].numpy()
    np.testing.assert_allclose(_probabilities(response), direct, atol=1e-6)


def test_predict_flux_row_and_columnar_formats_agree_with_serving_default(signatures, real_spectra):
    sigs, _ = signatures
    vectors = [v.tolist() for _, _, v in real_spectra]
    by_examples = rest.predict(
        {"signature_name": "serving_default", "instances": _b64_instances(real_spectra)}, sigs
    )
    rows = rest.predict({"signature_name": "predict_flux", "instances": vectors}, sigs)
    columnar = rest.predict({"signature_name": "predict_flux", "inputs": {"flux": vectors}}, sigs)
    bare_columnar = rest.predict({"signature_name": "predict_flux", "inputs": vectors}, sigs)

    _check_rows(rows["predictions"], len(vectors))
    outputs = columnar["outputs"]
    n, c = len(vectors), len(DEFAULT_CLASSES)
    assert np.shape(outputs["probabilities"]) == (n, c)
    assert outputs["class_names"] == [list(DEFAULT_CLASSES)] * n
    assert np.shape(outputs["predicted_class"]) == (n,)
    expected = _probabilities(by_examples)
    for response in (rows, columnar, bare_columnar):
        np.testing.assert_allclose(_probabilities(response), expected, atol=1e-6)
    assert outputs["predicted_class"] == [r["predicted_class"] for r in by_examples["predictions"]]


def test_json_numbers_carry_the_float32_vector_exactly(real_spectra):
    vector = real_spectra[0][2]
    decoded = np.asarray(json.loads(json.dumps(vector.tolist())), dtype=np.float32)
    np.testing.assert_array_equal(decoded, vector)


def test_malformed_requests_are_refused_by_the_signatures(signatures, real_spectra):
    sigs, _ = signatures
    short = {"signature_name": "predict_flux", "instances": [real_spectra[0][2][:-1].tolist()]}
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError)):
        rest.predict(short, sigs)
    # A record without the flux feature cannot be parsed in-graph.
    empty = tf.train.Example().SerializeToString()
    body = {"instances": [{"b64": base64.b64encode(empty).decode()}]}
    with pytest.raises(tf.errors.InvalidArgumentError, match="flux"):
        rest.predict(body, sigs)


def _docs_snippet() -> str:
    text = DOCS.read_text()
    match = re.search(r"<!-- fits-to-request -->\s*```python\n(.*?)```", text, re.S)
    assert match, "docs/serving.md lost its FITS-to-request snippet"
    return match.group(1)


def test_docs_snippet_builds_working_request_bodies(signatures, serving_base, real_dir):
    sigs, _ = signatures
    snippet = _docs_snippet()
    fits_file = str(real_dir / "ondrejov" / "oe270005.fits")
    snippet = snippet.replace('"WORKDIR/serving_model/1732261077"', repr(str(serving_base / "1")))
    snippet = snippet.replace('"spec-55862-B6212_sp06-018.fits"', repr(fits_file))
    assert repr(fits_file) in snippet and repr(str(serving_base / "1")) in snippet
    namespace: dict = {}
    exec(compile(snippet, str(DOCS), "exec"), namespace)

    assert namespace["degrade"] is True  # Ondřejov is sharper than the model
    by_examples = rest.predict(namespace["examples_body"], sigs)
    by_flux = rest.predict(namespace["flux_body"], sigs)
    _check_rows(by_examples["predictions"], 1)
    np.testing.assert_allclose(_probabilities(by_examples), _probabilities(by_flux), atol=1e-6)
