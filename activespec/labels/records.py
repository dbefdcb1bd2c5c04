"""Plain records of the label store: a label, a registered spectrum, and their fields."""

from __future__ import annotations

import dataclasses
import datetime as dt

from activespec.labels.errors import InvalidLabelError
from activespec.workdir import (
    PERFORMANCE_SAMPLE_BASENAME,
    QUERY_BASENAME,
    RECALL_SAMPLE_BASENAME,
)

#: Why a spectrum is shown to the human: the oracle query, the random sample of predicted
#: positives that estimates precision, the score-stratified random sample of predicted
#: negatives that estimates recall, or a candidate checked by hand.
ROLE_QUERY = "query"
ROLE_PERFORMANCE = "performance"
ROLE_RECALL = "recall"
ROLE_CANDIDATE = "candidate"
#: Every role, in the order rows are listed.
ROLES: tuple[str, ...] = (ROLE_QUERY, ROLE_PERFORMANCE, ROLE_RECALL, ROLE_CANDIDATE)
#: Roles of the rows the sampler writes each round; their labels train the next round.
SAMPLED_ROLES: tuple[str, ...] = (ROLE_QUERY, ROLE_PERFORMANCE, ROLE_RECALL)
#: Base names of the sampler's files of each sampled role: ``<name>.csv`` and ``<name>.json``.
SELECTION_NAMES: dict[str, str] = {
    ROLE_QUERY: QUERY_BASENAME,
    ROLE_PERFORMANCE: PERFORMANCE_SAMPLE_BASENAME,
    ROLE_RECALL: RECALL_SAMPLE_BASENAME,
}
#: How each role is named in messages and on the labelling page.
ROLE_TITLES: dict[str, str] = {
    ROLE_QUERY: "query",
    ROLE_PERFORMANCE: "performance sample",
    ROLE_RECALL: "recall sample",
    ROLE_CANDIDATE: "candidates",
}

#: Longest comment accepted [characters].
MAX_COMMENT_CHARS = 2_000
#: Longest labeller name accepted [characters].
MAX_LABELLER_CHARS = 100


@dataclasses.dataclass(frozen=True)
class LabelRecord:
    """One label given by a human; the store keeps every one (append-only).

    Attributes
    ----------
    id : int
        Row number in the store, increasing in the order labels were written.
    spectrum_id : str
    round : int
        Index of the active-learning round whose query or sample the spectrum came from.
    label : str
        Class name.
    labeller : str
    created_at : str
        UTC time, ISO 8601 with microseconds (``2024-05-01T12:00:00.123456+00:00``).
    comment : str
    role : {"query", "performance", "recall", "candidate"}
        The role of the row the label was given for.
    """

    id: int
    spectrum_id: str
    round: int
    label: str
    labeller: str
    created_at: str
    comment: str
    role: str

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class RegisteredSpectrum:
    """A spectrum shown for labelling in one round, with the row written by the sampler.

    Attributes
    ----------
    spectrum_id : str
    round : int
    role : {"query", "performance", "recall", "candidate"}
    rank : int or None
        Position in its query or sample (1 = first).
    metadata : dict
        The sampler's row (designation, coordinates, S/N, source path, probabilities ...).
    """

    spectrum_id: str
    round: int
    role: str
    rank: int | None
    metadata: dict


def utc_now() -> str:
    """The current UTC time in the store's timestamp format."""
    return format_timestamp(dt.datetime.now(dt.timezone.utc))


def format_timestamp(moment: dt.datetime) -> str:
    """UTC ISO 8601 with microseconds, so that text order is time order."""
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def normalise_timestamp(text: str) -> str:
    """Parse an ISO 8601 time (``Z`` or an offset; naive means UTC) into the store's format.

    Raises
    ------
    InvalidLabelError
        If ``text`` is not an ISO 8601 date and time.
    """
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidLabelError(
            f"created_at {text!r} is not an ISO 8601 time (e.g. 2024-05-01T12:00:00+00:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return format_timestamp(moment)


def check_role(role: str) -> str:
    """Return ``role`` if it is one of :data:`ROLES`, else raise InvalidLabelError."""
    if role not in ROLES:
        raise InvalidLabelError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    return role


def check_round(value) -> int:
    """A round index: a non-negative integer (``"3"`` is accepted from text files)."""
    if isinstance(value, bool):
        raise InvalidLabelError(f"round must be a non-negative integer, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit():
            raise InvalidLabelError(f"round must be a non-negative integer, got {value!r}")
        return int(text)
    if isinstance(value, int) and value >= 0:
        return value
    raise InvalidLabelError(f"round must be a non-negative integer, got {value!r}")


def check_labeller(labeller) -> str:
    """A non-empty, single-line labeller name of at most :data:`MAX_LABELLER_CHARS`."""
    if not isinstance(labeller, str) or not labeller.strip():
        raise InvalidLabelError("labeller must be a non-empty name")
    name = labeller.strip()
    if len(name) > MAX_LABELLER_CHARS or any(ch in name for ch in "\r\n"):
        raise InvalidLabelError(
            f"labeller must be one line of at most {MAX_LABELLER_CHARS} characters"
        )
    return name


def check_comment(comment) -> str:
    """A comment of at most :data:`MAX_COMMENT_CHARS` characters (surrounding blanks dropped)."""
    if comment is None:
        return ""
    if not isinstance(comment, str):
        raise InvalidLabelError(f"comment must be text, got {type(comment).__name__}")
    text = comment.strip()
    if len(text) > MAX_COMMENT_CHARS:
        raise InvalidLabelError(
            f"comment has {len(text)} characters; at most {MAX_COMMENT_CHARS} are allowed"
        )
    return text
