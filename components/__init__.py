"""Custom TFX components of activespec, one package per component (component, executor,
README), in the style of tfx-addons.

Each package exports its component lazily (:func:`lazy_exports`): Beam workers unpickle
a package's transforms by reference, and importing the package must not import TFX
(and with it TensorFlow Model Analysis) on every worker: with it, the demo's 3,000
labelled files took 11.6 s to ingest in 2 worker processes, without it 6.5 s
(``python -m bench.demo_steps``, BENCHMARKS.md section 1).
"""

from __future__ import annotations

import importlib


def lazy_exports(package: str, exports: dict[str, str]):
    """``__all__`` and a module ``__getattr__`` that imports each exported name on first use.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : dict
        ``{name: submodule}``, e.g. ``{"PoolScorer": "component"}``.

    Returns
    -------
    tuple of (list of str, callable)
        To be bound to ``__all__`` and ``__getattr__`` in the package's ``__init__``
        (PEP 562).
    """

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)

    return list(exports), __getattr__
