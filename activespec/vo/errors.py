"""Typed errors of the Virtual Observatory clients and of the local DaCHS server."""

from activespec.errors import ActivespecError


class VOError(ActivespecError):
    """A VO service could not be queried, or answered something unusable."""

    code = "vo"


class ServiceUnreachableError(VOError):
    """The service did not answer (connection refused, timeout, HTTP error) after retries."""

    code = "vo-unreachable"


class DachsUnavailableError(ActivespecError):
    """GAVO DaCHS is not installed and cannot be installed here, or did not start."""

    code = "dachs-unavailable"
