"""TF Serving's JSON <-> tensor mapping of the REST Predict API, for driving a loaded
SavedModel's signatures with real request bodies (the model server binary is not available
in the test environment).

Follows https://www.tensorflow.org/tfx/serving/api_rest: a request has ``signature_name``
(default ``serving_default``) and either ``instances`` (row format: one element per batch
item; for a single-input signature the element is the value itself, otherwise an object
keyed by input name) or ``inputs`` (columnar format: an object keyed by input name, or the
value of the only input). Binary strings are ``{"b64": ...}`` objects. Row-format requests
are answered with ``{"predictions": [...]}`` (one object per item keyed by output name),
columnar ones with ``{"outputs": {...}}``; string outputs are plain JSON strings.
"""

import base64
import json

import numpy as np
import tensorflow as tf


def _decode_value(value, dtype: tf.DType):
    """JSON value -> nested lists of Python values of the input's dtype."""
    if isinstance(value, dict):
        if set(value) != {"b64"}:
            raise ValueError(f"unexpected object {value!r} where a value was expected")
        return base64.b64decode(value["b64"], validate=True)
    if isinstance(value, list):
        return [_decode_value(item, dtype) for item in value]
    if dtype == tf.string:
        return value.encode("utf-8")
    return value


def _to_tensor(value, spec: tf.TensorSpec) -> tf.Tensor:
    if spec.dtype == tf.string:
        return tf.constant(np.array(value, dtype=object), dtype=tf.string)
    return tf.constant(np.asarray(value, dtype=spec.dtype.as_numpy_dtype))


def request_tensors(body_text: str, signatures) -> tuple[str, dict[str, tf.Tensor], bool]:
    """Parse a REST Predict body as the server would.

    Returns
    -------
    (signature name, input tensors by name, whether the request used the row format)
    """
    body = json.loads(body_text)
    name = body.get("signature_name", "serving_default")
    specs = signatures[name].structured_input_signature[1]
    if ("instances" in body) == ("inputs" in body):
        raise ValueError("a request has exactly one of 'instances' and 'inputs'")
    if "instances" in body:
        rows = body["instances"]
        if len(specs) == 1:
            (input_name,) = specs
            columns = {
                input_name: [
                    row[input_name] if isinstance(row, dict) and input_name in row else row
                    for row in rows
                ]
            }
        else:
            columns = {key: [row[key] for row in rows] for key in specs}
        row_format = True
    else:
        inputs = body["inputs"]
        if isinstance(inputs, dict) and set(inputs) <= set(specs) and "b64" not in inputs:
            columns = inputs
        else:
            (input_name,) = specs
            columns = {input_name: inputs}
        row_format = False
    tensors = {
        key: _to_tensor(_decode_value(value, specs[key].dtype), specs[key])
        for key, value in columns.items()
    }
    return name, tensors, row_format


def _json_value(value):
    """Output value -> JSON value: strings as UTF-8 text, numbers as numbers."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and value.dtype == object:
        return [_json_value(item) for item in value]
    return value.tolist()


def response_text(outputs: dict[str, tf.Tensor], row_format: bool) -> str:
    """Encode signature outputs as the server's JSON response."""
    arrays = {key: value.numpy() for key, value in outputs.items()}
    if row_format:
        batch = len(next(iter(arrays.values())))
        predictions = [{key: _json_value(arrays[key][i]) for key in arrays} for i in range(batch)]
        return json.dumps({"predictions": predictions})
    return json.dumps({"outputs": {key: _json_value(value) for key, value in arrays.items()}})


def predict(body: dict, signatures) -> dict:
    """Send ``body`` through JSON encoding, the signature and back: the decoded response."""
    name, tensors, row_format = request_tensors(json.dumps(body), signatures)
    return json.loads(response_text(signatures[name](**tensors), row_format))
