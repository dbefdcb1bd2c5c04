"""activespec: active deep learning for rare emission-line objects in spectral surveys.

The ``activespec`` package holds the domain code that does not depend on TFX:
FITS readers (:mod:`activespec.io`), spectral preprocessing
(:mod:`activespec.preprocessing`), the survey simulator (:mod:`activespec.simulator`)
and more. The TFX pipeline lives in the top-level ``pipeline``, ``components`` and
``models`` packages, which import this one, never the reverse; the command line is the
application package ``activespec_cli`` on top of all of them.
"""

__version__ = "0.1.0"
