"""AutoGraph leaves tf-keras's code unconverted and still converts the project's own."""

from __future__ import annotations

import numpy as np
import tf_keras
from tensorflow.python.autograph.core import config as autograph_config
from tensorflow.python.autograph.impl import conversion

from models import cnn
from models.autograph import KERAS_PACKAGE, skip_keras_internals


def _keras_rules():
    return [
        rule
        for rule in autograph_config.CONVERSION_RULES
        if isinstance(rule, autograph_config.DoNotConvert) and rule.matches(KERAS_PACKAGE)
    ]


def test_importing_the_network_puts_tf_keras_on_the_do_not_convert_list_once():
    skip_keras_internals()
    skip_keras_internals()
    assert len(_keras_rules()) == 1
    # tf-keras's training step is left as it is, as TensorFlow leaves ``keras``'s ...
    assert conversion.is_allowlisted(tf_keras.Model.train_step)
    assert conversion.is_allowlisted(tf_keras.layers.Conv1D.call)
    # ... and the project's own code is still converted
    assert not conversion.is_allowlisted(cnn.build_cnn)


def test_the_network_still_trains_and_predicts_in_graph_mode():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 140)).astype(np.float32)
    y = (x[:, 70] > 0).astype(np.int64)
    x[:, 70] *= 5  # a learnable line
    model = cnn.build_cnn(n_points=140, n_classes=2, filters=(8,), dense_units=(16,))
    history = model.fit({"flux": x}, y, epochs=8, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    probabilities = model.predict({"flux": x}, verbose=0)
    assert probabilities.shape == (64, 2) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
