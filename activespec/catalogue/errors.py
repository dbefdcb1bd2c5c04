"""Typed errors of the candidate catalogue, its report and its SAMP broadcast."""

from activespec.errors import ActivespecError


class CatalogueError(ActivespecError):
    """A work directory holds no usable round outputs, or a round file is malformed."""

    code = "catalogue"


class SampError(ActivespecError):
    """No SAMP hub answers, or the hub refused a connection or a message."""

    code = "samp"
