"""Hand the candidate catalogue and spectra to running VO tools over SAMP.

TOPCAT and Aladin load the VOTable (``table.load.votable``); SPLAT-VO and others load
each spectrum (``spectrum.load.ssa-generic``). The hub is found as the SAMP Standard
Profile prescribes: the ``SAMP_HUB`` environment variable (``std-lockurl:<URL>``),
else the lockfile ``~/.samp``; an explicit lockfile path or URL overrides both.
Messages are sent as calls so that each recipient's reply (loaded or failed) can be
reported back to the user.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import pathlib
import threading
import time
import urllib.parse
import urllib.request
import warnings
import xmlrpc.client
from collections.abc import Iterable

import numpy as np

from activespec.catalogue.errors import CatalogueError, SampError

TABLE_MTYPE = "table.load.votable"
SPECTRUM_MTYPE = "spectrum.load.ssa-generic"
CLIENT_NAME = "activespec"
NO_REPLY = "no reply"
_LOCKURL_PREFIX = "std-lockurl:"
_REMOTE_PREFIXES = ("gs://", "s3://", "http://", "https://", "hdfs://")


@dataclasses.dataclass
class SampDelivery:
    """One message and what each recipient answered.

    Attributes
    ----------
    mtype : str
    url : str
        The ``file://`` URL sent.
    replies : dict of str to str
        Recipient name -> ``"ok"``, ``"warning: ..."``, ``"error: ..."`` or ``"no reply"``
        (not answered within the timeout). Empty when no client subscribes to the MType.
    """

    mtype: str
    url: str
    replies: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class SampReport:
    """The outcome of :func:`send_to_samp`.

    Attributes
    ----------
    hub_url : str
        XML-RPC URL of the hub used.
    table : SampDelivery
    spectra : list of SampDelivery
    skipped : list of (str, str)
        Spectra not sent, with the reason (missing or non-local file).
    """

    hub_url: str
    table: SampDelivery
    spectra: list[SampDelivery]
    skipped: list[tuple[str, str]]


def send_to_samp(
    catalogue_path: str | os.PathLike,
    spectra_paths: Iterable[str | os.PathLike],
    *,
    hub_address: str | None = None,
    timeout: float = 10,
) -> SampReport:
    """Send the catalogue VOTable and candidate spectra to every client of a SAMP hub.

    Parameters
    ----------
    catalogue_path : path-like
        The VOTable written by :func:`activespec.catalogue.write_votable`. Its rows
        supply each spectrum's target name and position (matched on ``source``).
    spectra_paths : iterable of path-like
        Local FITS files to send, usually the ``source`` of the top candidates.
    hub_address : str, optional
        The hub's lockfile: a path, a ``file://`` or ``http(s)://`` URL, or
        ``std-lockurl:<URL>``. Default: ``$SAMP_HUB``, else ``~/.samp``.
    timeout : float, optional
        Seconds to wait for the hub to answer and, after sending, for the recipients'
        replies.

    Returns
    -------
    SampReport

    Raises
    ------
    SampError
        If no hub is running at the address, or it refuses the registration or a
        message.
    CatalogueError
        If ``catalogue_path`` is not a readable VOTable.
    """
    catalogue_path = pathlib.Path(catalogue_path)
    targets = _targets_by_source(catalogue_path)
    hub_params, local = _hub_params(hub_address, timeout)
    hub_url = hub_params["samp.hub.xmlrpc.url"].replace("\\", "")
    _ping(hub_url, timeout)

    spectra, skipped = [], []
    for path in spectra_paths:
        text = str(path)
        if text.startswith(_REMOTE_PREFIXES):
            skipped.append((text, "not a local file"))
        elif not os.path.isfile(text):
            skipped.append((text, "file not found"))
        else:
            spectra.append(pathlib.Path(text).resolve())

    with _connected_client(hub_params, loopback=local) as client:
        collector = _ReplyCollector(client)
        table_url = catalogue_path.resolve().as_uri()
        table = collector.call(
            "table",
            TABLE_MTYPE,
            {
                "url": table_url,
                "table-id": f"activespec-{catalogue_path.stem}",
                "name": f"activespec {catalogue_path.name}",
            },
            table_url,
        )
        deliveries = []
        for i, path in enumerate(spectra):
            name, position, spectrum_id = targets.get(str(path), (path.name, None, path.stem))
            url = path.as_uri()
            meta = {
                "Access.Reference": url,
                "Access.Format": "application/fits",
                "Target.Name": name,
            }
            if position is not None:
                meta["Target.Pos"] = position
            params = {"url": url, "meta": meta, "spectrum-id": spectrum_id, "name": name}
            deliveries.append(collector.call(f"spectrum-{i}", SPECTRUM_MTYPE, params, url))
        collector.wait(timeout)
    return SampReport(hub_url, table, deliveries, skipped)


def _targets_by_source(catalogue_path: pathlib.Path) -> dict[str, tuple[str, str | None, str]]:
    """Resolved source path -> (target name, "ra dec" or None, spectrum id) from the VOTable."""
    if not catalogue_path.is_file():
        raise CatalogueError(f"catalogue {str(catalogue_path)!r} does not exist")
    # astropy's VOTable reader is slow to import; only SAMP needs it
    from astropy.io.votable import parse_single_table

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = parse_single_table(str(catalogue_path)).to_table()
    except Exception as err:  # any parse failure: the VO tools could not read it either
        raise CatalogueError(
            f"{catalogue_path} is not a readable VOTable ({' '.join(str(err).split())})"
        ) from None
    if "source" not in table.colnames:
        return {}
    n = len(table)

    def column(name: str, fill):
        if name not in table.colnames:
            return [fill] * n
        return np.ma.filled(np.ma.asarray(table[name]), fill).tolist()

    ras, decs = column("ra", np.nan), column("dec", np.nan)
    ids, names = column("spectrum_id", ""), column("designation", "")
    targets = {}
    for source, ra, dec, spectrum_id, name in zip(
        column("source", ""), ras, decs, ids, names, strict=True
    ):
        source, spectrum_id, name = str(source), str(spectrum_id), str(name)
        if not source or source.startswith(_REMOTE_PREFIXES):
            continue
        position = None
        if math.isfinite(ra) and math.isfinite(dec):
            position = f"{ra:.6f} {dec:.6f}"
        key = str(pathlib.Path(source).resolve())
        targets[key] = (name or spectrum_id or pathlib.Path(source).name, position, spectrum_id)
    return targets


def _hub_params(hub_address: str | None, timeout: float) -> tuple[dict[str, str], bool]:
    """The hub's lockfile content, and whether the lockfile is on this machine."""
    address = hub_address or os.environ.get("SAMP_HUB")
    origin = "--samp-hub" if hub_address else "SAMP_HUB"
    if not address:
        address, origin = str(pathlib.Path.home() / ".samp"), "the default lockfile"
    if address.startswith(_LOCKURL_PREFIX):
        address = address[len(_LOCKURL_PREFIX) :]
    parsed = urllib.parse.urlparse(address)
    if parsed.scheme in ("http", "https"):
        try:
            with urllib.request.urlopen(address, timeout=timeout) as response:  # noqa: S310
                text = response.read().decode("utf-8", errors="replace")
        except OSError as err:
            raise SampError(f"cannot read the SAMP lockfile {address} ({err})") from None
        local = False
    else:
        if parsed.scheme == "file":
            path = pathlib.Path(urllib.request.url2pathname(parsed.path))
        elif len(parsed.scheme) <= 1:  # a plain path (or a Windows drive letter)
            path = pathlib.Path(address).expanduser()
        else:
            raise SampError(f"unsupported SAMP hub address {address!r} (from {origin})")
        if not path.is_file():
            raise SampError(
                f"no SAMP hub is running: lockfile {path} (from {origin}) does not exist; "
                "start TOPCAT, Aladin or astropy's samp_hub first"
            )
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as err:
            raise SampError(f"cannot read the SAMP lockfile {path} ({err.strerror})") from None
        local = True
    params = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            params[key.strip()] = value.strip()
    for key in ("samp.secret", "samp.hub.xmlrpc.url"):
        if key not in params:
            raise SampError(f"the SAMP lockfile {address} has no {key}")
    return params, local


class _TimeoutTransport(xmlrpc.client.Transport):
    def __init__(self, timeout: float):
        super().__init__()
        self._timeout = timeout

    def make_connection(self, host):
        connection = super().make_connection(host)
        connection.timeout = self._timeout
        return connection


def _ping(hub_url: str, timeout: float) -> None:
    proxy = xmlrpc.client.ServerProxy(
        hub_url, transport=_TimeoutTransport(timeout), allow_none=True
    )
    try:
        proxy.samp.hub.ping()
    except xmlrpc.client.ProtocolError:
        return  # the server answered, only not as expected: it is alive
    except (OSError, xmlrpc.client.Fault) as err:
        raise SampError(
            f"no SAMP hub answers at {hub_url} ({err}); is the hub still running?"
        ) from None


@contextlib.contextmanager
def _connected_client(hub_params: dict[str, str], *, loopback: bool):
    """A registered, callable SAMPIntegratedClient; always unregistered on exit."""
    # astropy.samp is slow to import; only a broadcast needs it
    from astropy.samp import SAMPIntegratedClient, conf
    from astropy.samp.errors import SAMPClientError, SAMPHubError, SAMPProxyError

    # A hub whose lockfile is on this machine reaches the client on the loopback
    # interface; without this astropy probes the internet to pick an address.
    setting = conf.set_temp("use_internet", False) if loopback else contextlib.nullcontext()
    with setting:
        client = SAMPIntegratedClient(
            name=CLIENT_NAME,
            description="activespec: emission-line candidates from active deep learning",
        )
        try:
            client.connect(hub_params=hub_params, pool_size=1)
        except (SAMPClientError, SAMPHubError, SAMPProxyError, OSError) as err:
            raise SampError(f"the SAMP hub refused the connection ({err})") from None
        try:
            yield client
        except (SAMPClientError, SAMPHubError, SAMPProxyError, xmlrpc.client.Fault) as err:
            raise SampError(f"the SAMP hub refused a message ({err})") from None
        finally:
            with contextlib.suppress(Exception):  # the hub may already be gone
                client.disconnect()


class _ReplyCollector:
    """Sends calls to all subscribed clients and gathers their replies.

    A reply can arrive (on the client's server thread) before ``call_all`` has returned
    the recipients, so replies without a pending entry are kept until it is made.
    """

    def __init__(self, client):
        self._client = client
        self._condition = threading.Condition()
        self._pending: dict[tuple[str, str], tuple[SampDelivery, str]] = {}
        self._early: dict[tuple[str, str], str] = {}
        self._names: dict[str, str] = {}

    def call(self, tag: str, mtype: str, params: dict, url: str) -> SampDelivery:
        delivery = SampDelivery(mtype, url)
        self._client.bind_receive_response(tag, self._on_response)
        message = {"samp.mtype": mtype, "samp.params": params}
        recipients = list(self._client.call_all(tag, message) or {})
        names = {recipient: self._name(recipient) for recipient in recipients}
        with self._condition:
            for recipient in recipients:
                outcome = self._early.pop((tag, recipient), None)
                delivery.replies[names[recipient]] = outcome or NO_REPLY
                if outcome is None:
                    self._pending[(tag, recipient)] = (delivery, names[recipient])
        return delivery

    def wait(self, timeout: float) -> None:
        deadline = time.monotonic() + max(0.0, float(timeout))
        with self._condition:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._condition.wait(remaining)

    def _on_response(self, private_key, responder_id, msg_tag, response) -> None:
        status = str(response.get("samp.status", ""))
        error = response.get("samp.error") or {}
        detail = error.get("samp.errortxt", "") if isinstance(error, dict) else str(error)
        if status == "samp.ok":
            outcome = "ok"
        elif status == "samp.warning":
            outcome = f"warning: {detail}" if detail else "warning"
        else:
            outcome = f"error: {detail or status or 'no status'}"
        with self._condition:
            entry = self._pending.pop((msg_tag, responder_id), None)
            if entry is None:
                self._early[(msg_tag, responder_id)] = outcome
            else:
                delivery, name = entry
                delivery.replies[name] = outcome
            self._condition.notify_all()

    def _name(self, public_id: str) -> str:
        if public_id not in self._names:
            try:
                metadata = self._client.get_metadata(public_id) or {}
            except Exception:  # metadata is cosmetic: fall back to the public id
                metadata = {}
            name = str(metadata.get("samp.name") or public_id)
            # Two clients with one name (two TOPCATs) stay apart.
            taken = name in self._names.values()
            self._names[public_id] = f"{name} ({public_id})" if taken else name
        return self._names[public_id]
