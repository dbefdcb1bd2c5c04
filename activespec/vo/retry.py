"""Bounded retries of a pyvo query, with the errors worded for the user.

A connection error, a timeout, HTTP 408/429 or 5xx is transient: the query is tried
again after ``backoff``, ``2 * backoff``, ... seconds (at most 60), ``retries`` times,
and then :class:`~activespec.vo.errors.ServiceUnreachableError` says so. A refused query
(``QUERY_STATUS=ERROR``), another HTTP 4xx or an answer that is not a VOTable is
:class:`~activespec.vo.errors.VOError` at once.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import TypeVar

from activespec.vo.errors import ServiceUnreachableError, VOError

T = TypeVar("T")
MAX_WAIT_S = 60.0


def call_with_retries(call: Callable[[], T], *, what: str, retries: int, backoff: float) -> T:
    """``call()``, retried as the module says; ``what`` names the service in messages."""
    import requests
    from pyvo.dal.exceptions import DALFormatError, DALQueryError, DALServiceError

    attempt = 0
    while True:
        attempt += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # VOTable W-codes of real services
                return call()
        except DALQueryError as err:
            raise VOError(f"{what} refused the query: {short(err)}") from None
        except DALServiceError as err:
            status = getattr(err, "code", None)
            if isinstance(status, int) and 400 <= status < 500 and status not in (408, 429):
                raise VOError(f"{what}: HTTP {status}: {short(err)}") from None
            reason = short(err)
        except DALFormatError as err:
            # pyvo words a failed connection as an unparsable answer; its cause tells
            if not isinstance(err.cause, requests.exceptions.RequestException):
                raise VOError(
                    f"{what} answered something that is not a VOTable: {short(err)}"
                ) from None
            reason = short(err.cause)
        except requests.exceptions.RequestException as err:
            reason = short(err)
        if attempt > retries:
            raise ServiceUnreachableError(
                f"{what} did not answer after {attempt} attempt(s): {reason}"
            )
        time.sleep(min(MAX_WAIT_S, backoff * 2 ** (attempt - 1)))


def short(err: BaseException) -> str:
    """The error's message on one line, at most 300 characters."""
    return (" ".join(str(err).split()) or type(err).__name__)[:300]
