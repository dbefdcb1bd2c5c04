"""The labelling web app: a round's query and performance sample, labelled in a browser.

:func:`create_server` binds a standard-library HTTP server (no web framework, no asset
from the internet) that serves the page in ``static/`` and a small JSON API; labels go
straight into the campaign's :class:`activespec.labels.LabelStore`.
"""

from activespec.labelling.server import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    LabellingApp,
    LabellingServer,
    create_server,
)
from activespec.labelling.spectrum_view import decimate, line_wavelengths, spectrum_view

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "LabellingApp",
    "LabellingServer",
    "create_server",
    "decimate",
    "line_wavelengths",
    "spectrum_view",
]
