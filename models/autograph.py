"""AutoGraph leaves tf-keras's own code as it is, as it does for ``keras``.

TensorFlow's AutoGraph rewrites Python control flow into graph ops for every function a
``tf.function`` calls, except in modules on its do-not-convert list. The list names
``keras`` and ``tensorflow`` but not ``tf_keras``, the package the legacy Keras of TF
2.16 lives in (``TF_USE_LEGACY_KERAS=1``), so the first ``fit`` of every process
rewrote about 2,000 of tf-keras's functions: 11-12 s of the first epoch of the
project's CNN on 2 cores, against 1.7 s for a later epoch (``python -m
bench.demo_steps``, BENCHMARKS.md "make demo, stage by stage"). tf-keras's code is the
``keras`` code TensorFlow already trusts to run unconverted; the project's own
functions are still converted.
"""

from __future__ import annotations

# AutoGraph's rule list has no public API; the rule type and the tuple are stable since
# TF 2.2 and TF 2.16 is pinned in the lock (tests/models/test_autograph.py checks it).
from tensorflow.python.autograph.core import config as _autograph_config

__all__ = ["KERAS_PACKAGE", "skip_keras_internals"]

#: The package of the legacy Keras the project trains with.
KERAS_PACKAGE = "tf_keras"


def skip_keras_internals() -> None:
    """Put ``tf_keras`` on AutoGraph's do-not-convert list (once per process)."""
    rules = _autograph_config.CONVERSION_RULES
    if any(
        isinstance(rule, _autograph_config.DoNotConvert) and rule.matches(KERAS_PACKAGE)
        for rule in rules
    ):
        return
    _autograph_config.CONVERSION_RULES = (
        _autograph_config.DoNotConvert(KERAS_PACKAGE),
        *rules,
    )
