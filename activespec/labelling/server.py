"""The labelling web server: one round's query and samples, labelled in a browser.

Standard library only (:class:`http.server.ThreadingHTTPServer` and :mod:`json`); the
page is plain HTML, CSS and JavaScript served from ``static/``, with no asset from the
internet. Endpoints::

    GET  /                     the page
    GET  /static/<file>        its script and style sheet
    GET  /api/batch            the round's rows, their current labels and the progress
    GET  /api/spectrum/<id>    the model's window and the full spectrum, for the plots
    POST /api/labels           {spectrum_id, label, comment?, role?}: saved at once

Every label is committed to the label store before the response is sent. With a token,
every request must carry it (``?token=`` or the ``X-Activespec-Token`` header), else the
answer is 403. Bad input (unknown spectrum or class ...) is answered 400 with the reason.
"""

from __future__ import annotations

import functools
import hmac
import http
import json
import logging
import os
import pathlib
import threading
import urllib.parse
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from activespec.errors import ActivespecError, ConfigError
from activespec.labelling.spectrum_view import spectrum_view
from activespec.labels import (
    LabelError,
    LabelRecord,
    LabelStore,
    latest_round,
    read_round_rows,
    round_class_names,
    store_path,
)
from activespec.labels.errors import InvalidLabelError, UnknownSpectrumError
from activespec.labels.records import ROLE_RECALL, check_labeller
from activespec.model_metadata import model_preprocess_config, round_model_metadata_path
from activespec.preprocessing import PreprocessConfig
from activespec.recall import STRATUM, STRATUM_LOWER, STRATUM_POPULATION, STRATUM_UPPER

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
TOKEN_HEADER = "X-Activespec-Token"
#: Largest request body accepted [bytes].
MAX_BODY_BYTES = 64 * 1024
#: Spectrum views kept in memory (reading and preprocessing a FITS file takes a while).
VIEW_CACHE_SIZE = 128

STATIC_DIR = pathlib.Path(__file__).parent / "static"
_STATIC_FILES = {
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
_ASSET_QUERY_PLACEHOLDER = "{{ASSET_QUERY}}"
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
}


class LabellingApp:
    """What the server answers, independent of HTTP: the round, its rows and the store.

    Built by :func:`create_server`; thread-safe (the store gives each thread its own
    connection and the rows do not change while serving).
    """

    def __init__(
        self,
        *,
        workdir: pathlib.Path,
        round_index: int,
        store: LabelStore,
        labeller: str,
        token: str | None,
        preprocess_config: PreprocessConfig,
        model_metadata_path: pathlib.Path | None = None,
    ):
        self.workdir = workdir
        self.round_index = round_index
        self.store = store
        self.labeller = labeller
        self.token = token
        self.preprocess_config = preprocess_config
        #: The metadata file of the round's model the window's settings come from; None
        #: when the round records no model (the settings given, or the defaults, apply).
        self.model_metadata_path = model_metadata_path
        self._rows = store.rows(round_index)
        self._rows_by_id: dict[str, list] = {}
        for row in self._rows:
            self._rows_by_id.setdefault(row.spectrum_id, []).append(row)
        self._view = functools.lru_cache(maxsize=VIEW_CACHE_SIZE)(self._compute_view)

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.store.class_names

    def batch(self) -> dict:
        """The round's rows with their current and earlier labels, and the progress."""
        this_round = self.store.current_labels(self.round_index)
        everywhere = self.store.current_labels()
        rows = []
        for row in self._rows:
            meta = row.metadata
            current = this_round.get(row.spectrum_id)
            latest = everywhere.get(row.spectrum_id)
            earlier = latest if latest is not None and latest.round != self.round_index else None
            rows.append(
                {
                    "key": f"{row.role}:{row.spectrum_id}",
                    "spectrum_id": row.spectrum_id,
                    "role": row.role,
                    "rank": row.rank,
                    "designation": meta.get("designation") or "",
                    "ra": meta.get("ra"),
                    "dec": meta.get("dec"),
                    "snr": meta.get("snr"),
                    "survey": meta.get("survey") or "",
                    "source": meta.get("source") or "",
                    "predicted_class": meta.get("predicted_class"),
                    "probabilities": self._probabilities(meta),
                    "entropy": meta.get("entropy"),
                    "margin": meta.get("margin"),
                    "least_confidence": meta.get("least_confidence"),
                    "label": _label_dict(current),
                    "earlier_label": _label_dict(earlier),
                    "stratum": _stratum(meta) if row.role == ROLE_RECALL else None,
                    # Why a query row is there: the strategy, or a lost candidate.
                    "query_reason": meta.get("query_reason") or None,
                }
            )
        return {
            "round": self.round_index,
            "classes": list(self.class_names),
            "labeller": self.labeller,
            "rows": rows,
            "progress": self.progress(),
        }

    def progress(self) -> dict:
        """``role -> {"labelled": n, "total": k}`` for this round."""
        return {
            role: {"labelled": done, "total": total}
            for role, (done, total) in self.store.progress(self.round_index).items()
        }

    def spectrum(self, spectrum_id: str) -> dict:
        """The plotted views of a spectrum of this round, its row and its label history.

        Raises
        ------
        UnknownSpectrumError
            If the spectrum is not in this round's query or performance sample.
        """
        rows = self._rows_by_id.get(spectrum_id)
        if not rows:
            raise UnknownSpectrumError(
                f"unknown spectrum id {spectrum_id!r}: not in round {self.round_index}'s "
                "query or samples"
            )
        meta = rows[0].metadata
        source = self._resolve_source(meta.get("source") or "")
        current = self.store.current_labels(self.round_index).get(spectrum_id)
        return {
            "spectrum_id": spectrum_id,
            "round": self.round_index,
            "roles": [row.role for row in rows],
            "source": source,
            "predicted_class": meta.get("predicted_class"),
            "probabilities": self._probabilities(meta),
            "label": _label_dict(current),
            "history": [record.to_dict() for record in self.store.history(spectrum_id)],
            **self._view(source),
        }

    def save_label(self, body: Mapping) -> dict:
        """Store a label sent by the page; return it with the new progress.

        Raises
        ------
        LabelError
            On a missing field, an unknown spectrum or class, or a too-long comment.
        """
        if not isinstance(body, Mapping):
            raise InvalidLabelError("the request body must be a JSON object")
        spectrum_id, label = body.get("spectrum_id"), body.get("label")
        if not isinstance(spectrum_id, str) or not spectrum_id:
            raise InvalidLabelError("missing spectrum_id")
        if not isinstance(label, str) or not label:
            raise InvalidLabelError("missing label (a class name)")
        if spectrum_id not in self._rows_by_id:
            raise UnknownSpectrumError(
                f"unknown spectrum id {spectrum_id!r}: not in round {self.round_index}'s "
                "query or samples"
            )
        record = self.store.add_label(
            spectrum_id,
            label,
            round_index=self.round_index,
            labeller=self.labeller,
            comment=body.get("comment") or "",
            role=body.get("role") or None,
        )
        return {"saved": record.to_dict(), "progress": self.progress()}

    def close(self) -> None:
        self.store.close()

    def _probabilities(self, meta: Mapping) -> dict:
        probabilities = meta.get("probabilities")
        if isinstance(probabilities, Mapping):
            return {name: probabilities.get(name) for name in self.class_names}
        return {}

    def _resolve_source(self, source: str) -> str:
        # Relative sources are taken relative to the work directory.
        if source and "://" not in source and not os.path.isabs(source):
            return str(self.workdir / source)
        return source

    def _compute_view(self, source: str) -> dict:
        return spectrum_view(source, config=self.preprocess_config)


class LabellingServer(ThreadingHTTPServer):
    """The HTTP server; :attr:`app` holds the state. Close with :meth:`server_close`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: LabellingApp):
        self.app = app
        self._closed = threading.Event()
        super().__init__(address, _Handler)
        page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
        query = "" if not app.token else "?token=" + urllib.parse.quote(app.token, safe="")
        self.page = page.replace(_ASSET_QUERY_PLACEHOLDER, query).encode("utf-8")

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        """The page's address, with the token when one is set."""
        host = self.server_address[0]
        if ":" in host:
            host = f"[{host}]"
        query = "" if not self.app.token else "?token=" + urllib.parse.quote(self.app.token)
        return f"http://{host}:{self.port}/{query}"

    def server_close(self) -> None:
        super().server_close()
        if not self._closed.is_set():
            self._closed.set()
            self.app.close()


def create_server(
    workdir: str | os.PathLike,
    *,
    round_index: int | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    token: str | None = None,
    labeller: str = "human",
    class_names: Sequence[str] | None = None,
    preprocess_config: PreprocessConfig | Mapping | None = None,
) -> LabellingServer:
    """Open the label store, register the round's rows and bind the labelling server.

    Call ``serve_forever()`` on the result (in a thread if needed), then ``shutdown()``
    and ``server_close()``.

    Parameters
    ----------
    workdir : path-like
        The campaign's work directory (``rounds/round-NNN/``, ``labels.sqlite``).
    round_index : int, optional
        The round to label; by default the latest one with a query or sample.
    host : str, optional
        Interface to listen on; the loopback interface by default.
    port : int, optional
        TCP port; 0 picks any free port (see ``server.port``).
    token : str, optional
        When set, every request must carry it (query ``token`` or header
        ``X-Activespec-Token``); otherwise it is answered 403.
    labeller : str, optional
        Name recorded with every label given through this server.
    class_names : sequence of str, optional
        By default the round's (its ``summary.json``, else its rows' probabilities,
        else :data:`activespec.constants.DEFAULT_CLASSES`).
    preprocess_config : PreprocessConfig or mapping, optional
        The window plot shows the vector the round's model scored: with the
        preprocessing recorded in that model (``summary.json``'s ``model_uri``, its
        ``activespec_model.json``). Only when the round records no model, these settings
        apply (e.g. the round's TOML), else the defaults. Which spectra are degraded is
        decided by :func:`activespec.preprocessing.should_degrade`, as in ingestion.

    Returns
    -------
    LabellingServer

    Raises
    ------
    activespec.errors.ConfigError
        If the work directory or round is missing or malformed, the store was made for
        other classes, the labeller name is invalid, or the address cannot be bound.
    """
    root = pathlib.Path(workdir).resolve()
    if not root.is_dir():
        raise ConfigError(f"work directory {root} does not exist")
    index = latest_round(root) if round_index is None else int(round_index)
    rows = read_round_rows(root, index)
    names = tuple(class_names) if class_names is not None else round_class_names(root, index)
    model_metadata = round_model_metadata_path(root, index)
    if model_metadata is not None:
        preprocess_config = model_preprocess_config(model_metadata)
    elif isinstance(preprocess_config, Mapping):
        preprocess_config = PreprocessConfig.from_dict(preprocess_config)
    elif preprocess_config is None:
        preprocess_config = PreprocessConfig()
    elif not isinstance(preprocess_config, PreprocessConfig):
        raise ConfigError(
            f"preprocess_config must be a PreprocessConfig, got {type(preprocess_config).__name__}"
        )
    if token is not None and not token:
        raise ConfigError("the token must not be empty")
    try:
        labeller = check_labeller(labeller)
    except LabelError as err:
        raise ConfigError(str(err)) from None

    store = LabelStore(store_path(root), names)
    try:
        store.register_round(index, rows)
        app = LabellingApp(
            workdir=root,
            round_index=index,
            store=store,
            labeller=labeller,
            token=token,
            preprocess_config=preprocess_config,
            model_metadata_path=model_metadata,
        )
        try:
            return LabellingServer((host, port), app)
        except OSError as err:
            raise ConfigError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    except BaseException:
        store.close()
        raise


class _Handler(BaseHTTPRequestHandler):
    server: LabellingServer
    server_version = "activespec-labelling/1"

    # ------------------------------------------------------------------ routing

    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        if not self._authorised(url):
            self._send_error(http.HTTPStatus.FORBIDDEN, "missing or wrong token", url.path)
            return
        app = self.server.app
        try:
            if method == "GET" and url.path in ("/", "/index.html"):
                self._send(200, self.server.page, "text/html; charset=utf-8")
            elif method == "GET" and url.path.startswith("/static/"):
                self._send_static(url.path[len("/static/") :])
            elif method == "GET" and url.path == "/api/batch":
                self._send_json(200, app.batch())
            elif method == "GET" and url.path.startswith("/api/spectrum/"):
                spectrum_id = urllib.parse.unquote(url.path[len("/api/spectrum/") :])
                self._send_json(200, app.spectrum(spectrum_id))
            elif method == "POST" and url.path == "/api/labels":
                self._send_json(200, app.save_label(self._read_json()))
            elif url.path == "/favicon.ico":
                self._send(204, b"", "image/x-icon")
            elif url.path in ("/", "/index.html", "/api/batch", "/api/labels") or (
                url.path.startswith(("/api/spectrum/", "/static/"))
            ):
                self._send_error(http.HTTPStatus.METHOD_NOT_ALLOWED, f"{method} not allowed")
            else:
                self._send_error(http.HTTPStatus.NOT_FOUND, f"no such page: {url.path}")
        except _HttpError as err:
            self._send_error(err.status, str(err))
        except ActivespecError as err:
            self._send_error(http.HTTPStatus.BAD_REQUEST, str(err), code=err.code)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away
        except Exception as err:  # a bug: answer 500 rather than dropping the connection
            logger.exception("labelling server: %s %s failed", method, url.path)
            self._send_error(
                http.HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error: {type(err).__name__}"
            )

    def _authorised(self, url: urllib.parse.SplitResult) -> bool:
        expected = self.server.app.token
        if not expected:
            return True
        supplied = self.headers.get(TOKEN_HEADER)
        if supplied is None:
            supplied = urllib.parse.parse_qs(url.query).get("token", [""])[0]
        return hmac.compare_digest(supplied.encode("utf-8"), expected.encode("utf-8"))

    # ------------------------------------------------------------------ bodies

    def _read_json(self):
        content_type = self.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise _HttpError(
                http.HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send the label as application/json"
            )
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise _HttpError(http.HTTPStatus.LENGTH_REQUIRED, "Content-Length is required")
        if int(length) > MAX_BODY_BYTES:
            raise _HttpError(
                http.HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"request body over {MAX_BODY_BYTES} bytes",
            )
        raw = self.rfile.read(int(length))
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise InvalidLabelError(f"the request body is not JSON: {err}") from None

    def _send_static(self, name: str) -> None:
        content_type = _STATIC_FILES.get(name)
        if content_type is None:
            raise _HttpError(http.HTTPStatus.NOT_FOUND, f"no such file: /static/{name}")
        self._send(200, (STATIC_DIR / name).read_bytes(), content_type)

    def _send_json(self, status: int, payload) -> None:
        body = json.dumps(payload, allow_nan=False, separators=(",", ":")).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8")

    def _send_error(self, status: int, message: str, path: str = "", code: str = "") -> None:
        if status >= 500 or status == http.HTTPStatus.FORBIDDEN:
            logger.warning("labelling server: %d %s %s", status, message, path)
        payload = {"error": message, "status": int(status)}
        if code:
            payload["code"] = code
        self._send_json(int(status), payload)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in _SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the http.server API)
        logger.debug("%s - %s", self.address_string(), format % args)


class _HttpError(Exception):
    """An HTTP-level refusal (wrong method, media type, size ...)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _label_dict(record: LabelRecord | None) -> dict | None:
    return None if record is None else record.to_dict()


def _stratum(meta: Mapping) -> dict:
    """The score stratum a recall-sample row was drawn from (see the sampler's rows)."""
    return {
        "index": meta.get(STRATUM),
        "lower": meta.get(STRATUM_LOWER),
        "upper": meta.get(STRATUM_UPPER),
        "population": meta.get(STRATUM_POPULATION),
    }
