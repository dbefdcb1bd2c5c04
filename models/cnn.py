"""The 1-D convolutional network of Škoda, Podsztavek & Tvrdík (2020) and its configuration.

The default architecture is the published one (about 2.48 M parameters)::

    flux (140) -> reshape (140, 1)
    -> [Conv1D 64, k=3, ReLU] x2 -> MaxPool 2
    -> [Conv1D 128, k=3, ReLU] x2 -> MaxPool 2
    -> [Conv1D 256, k=3, ReLU] x2 -> MaxPool 2
    -> Flatten (3,584) -> Dense 512 ReLU -> Dropout 0.5 -> Dense 512 ReLU -> Dropout 0.5
    -> Dense n_classes softmax

with "valid" padding, Adam and (sparse) categorical cross-entropy. Every hyperparameter is a
keyword of :func:`build_cnn` and a field of :class:`ModelConfig`, which also carries the
training settings used by the Trainer module.
"""

from collections.abc import Sequence

import tf_keras

from activespec.constants import GRID_POINTS
from models import features
from models.autograph import skip_keras_internals
from models.config import CLASS_WEIGHTINGS, ModelConfig, _check_architecture, conv_output_length

# The first fit of a process: ~12 s less on 2 cores (models/autograph.py).
skip_keras_internals()

__all__ = [
    "CLASS_WEIGHTINGS",
    "OUTPUT_NAME",
    "ModelConfig",
    "build_cnn",
    "build_from_config",
    "conv_output_length",
]

#: Name of the softmax output layer (also the prediction key of the serving signatures).
OUTPUT_NAME = "probabilities"


def build_from_config(config: ModelConfig, n_classes: int) -> tf_keras.Model:
    """Build and compile the network a :class:`ModelConfig` describes (see :func:`build_cnn`)."""
    return build_cnn(
        n_points=config.n_points,
        n_classes=n_classes,
        filters=config.filters,
        convs_per_block=config.convs_per_block,
        kernel_size=config.kernel_size,
        dense_units=config.dense_units,
        dropout=config.dropout,
        learning_rate=config.learning_rate,
    )


def build_cnn(
    *,
    n_points: int = GRID_POINTS,
    n_classes: int = 3,
    filters: Sequence[int] = (64, 128, 256),
    convs_per_block: int = 2,
    kernel_size: int = 3,
    dense_units: Sequence[int] = (512, 512),
    dropout: float = 0.5,
    learning_rate: float = 1e-3,
) -> tf_keras.Model:
    """Build and compile the spectrum classifier.

    Call it inside ``strategy.scope()`` to place the variables for a distribution
    strategy.

    Parameters
    ----------
    n_points : int
        Number of flux values per spectrum (140 on the published grid).
    n_classes : int
        Number of classes (softmax outputs).
    filters : sequence of int
        Filters of each convolution block; every block ends with a max-pooling of 2.
    convs_per_block : int
        Conv1D layers per block (ReLU, "valid" padding).
    kernel_size : int
        Kernel size of every convolution.
    dense_units : sequence of int
        Units of the ReLU dense layers after flattening, each followed by dropout.
    dropout : float
        Dropout rate after every dense layer.
    learning_rate : float
        Adam learning rate.

    Returns
    -------
    tf_keras.Model
        A compiled functional model with one input named ``"flux"`` of shape
        ``(n_points,)`` and a softmax output named ``"probabilities"``; loss sparse
        categorical cross-entropy (integer labels), metric ``accuracy``.

    Raises
    ------
    activespec.errors.ConfigError
        If a hyperparameter is out of range or the input is too short for the stack.
    """
    filters = tuple(filters)
    dense_units = tuple(dense_units)
    _check_architecture(
        n_points=n_points,
        n_classes=n_classes,
        filters=filters,
        convs_per_block=convs_per_block,
        kernel_size=kernel_size,
        dense_units=dense_units,
        dropout=dropout,
        learning_rate=learning_rate,
    )
    layers = tf_keras.layers
    inputs = tf_keras.Input(shape=(n_points,), name=features.FLUX, dtype="float32")
    # Conv1D needs a channel axis; the serving signatures and tf.Examples carry flat vectors.
    x = layers.Reshape((n_points, 1), name="add_channel")(inputs)
    for block, n_filters in enumerate(filters, start=1):
        for conv in range(1, convs_per_block + 1):
            x = layers.Conv1D(
                n_filters,
                kernel_size,
                padding="valid",
                activation="relu",
                name=f"block{block}_conv{conv}",
            )(x)
        x = layers.MaxPooling1D(pool_size=2, name=f"block{block}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    for index, units in enumerate(dense_units, start=1):
        x = layers.Dense(units, activation="relu", name=f"dense{index}")(x)
        x = layers.Dropout(dropout, name=f"dropout{index}")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name=OUTPUT_NAME)(x)

    model = tf_keras.Model(inputs=inputs, outputs=outputs, name="activespec_cnn")
    model.compile(
        optimizer=tf_keras.optimizers.Adam(learning_rate=learning_rate),
        loss=tf_keras.losses.SparseCategoricalCrossentropy(),
        metrics=[tf_keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model
