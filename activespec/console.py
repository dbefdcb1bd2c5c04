"""What the user sees while a round runs, and where the libraries' logs go.

TensorFlow, TFX, Beam and absl write hundreds of lines per round: Python logging,
warnings, TensorFlow's C++ log on file descriptor 2 (some of it, such as the CUDA
factory registration, before any setting can silence it) and the output of Beam's
worker processes. :func:`route_logs` sends all of it to ``WORKDIR/logs/activespec-
<time>.log`` (:meth:`activespec.workdir.WorkDir.log_path`) and leaves the console to
the :class:`Console`: the command's own lines and, per step of the round
(:func:`stage_lines`), one line with its elapsed time::

    library logs (TensorFlow, TFX, Beam): demo/logs/activespec-20250611-101500.log
    round 0: training on the labelled set + 0 labelled pool spectra
      ✓ ingest     1 min 17 s
      ✓ validate         26 s
      ✓ train            48 s  (3/3 epochs)
      ✓ score            16 s
      ...

On a terminal the running step is shown live, with its elapsed time and, for training,
the epoch. With ``verbose`` the logs stay on the console (at INFO) and no file is
written. Errors are never swallowed: the traceback goes to the log file and the
exception propagates, carrying the file's path (:func:`log_path_of`).

TensorFlow-free: routing must start before TensorFlow is imported.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import pathlib
import re
import resource
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

from activespec.workdir import WorkDir

#: Python loggers of the libraries under the pipeline. While logs are routed, their own
#: handlers (TensorFlow adds one writing to stderr) are set aside and their records go
#: to the root logger's, i.e. the log file.
LIBRARY_LOGGERS = (
    "absl",
    "tensorflow",
    "tf_keras",
    "apache_beam",
    "tfx",
    "tfx_bsl",
    "ml_metadata",
    "tensorflow_data_validation",
    "tensorflow_model_analysis",
    "tensorflow_transform",
    "py.warnings",
)
#: TensorFlow's C++ log level while logs are routed (2: errors only); set before
#: TensorFlow is imported, unless the environment sets it.
TF_CPP_MIN_LOG_LEVEL = "2"

#: The records of TFX 1.16's LocalDagRunner (absl logging) of a component starting and
#: finishing, and of the launcher when the component's outputs come from its cache.
COMPONENT_RUNNING = "Component %s is running."
COMPONENT_FINISHED = "Component %s is finished."
COMPONENT_SKIPPED = "Skipping component %s."
CACHED_EXECUTION = "A cached execution %d is used."
#: Keras' line at the start of each epoch (``model.fit(verbose=2)``, on stdout).
EPOCH_LINE = re.compile(r"^Epoch (\d+)/(\d+)\s*$")

#: The exception attribute naming the log file of the run it interrupted.
LOG_PATH_ATTRIBUTE = "activespec_log_path"

_LIVE_INTERVAL_S = 1.0
# A step's CPU use is shown when it ran this long (shorter ones are start-up noise).
_MIN_SECONDS_FOR_CORES = 2.0
_ACTIVE: Console | None = None


def format_elapsed(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def log_path_of(err: BaseException) -> pathlib.Path | None:
    """The log file of the routed run ``err`` interrupted, if any."""
    return getattr(err, LOG_PATH_ATTRIBUTE, None)


def add_verbose_option(parser) -> None:
    """``-v/--verbose`` of the commands that run the pipeline."""
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show the full logs of TensorFlow, TFX and Beam here instead of in WORKDIR/logs/",
    )


class Console:
    """The command's own lines, and one line per finished step of a round.

    Parameters
    ----------
    stream : text stream, optional
        Where the lines go (default: ``sys.stdout`` at creation).
    indent : str
        Indentation of the step lines.
    live : bool, optional
        Redraw the running step's line every second (default: when ``stream`` is a
        terminal and logs are routed to a file).
    """

    def __init__(self, stream=None, *, indent: str = "  ", live: bool | None = None) -> None:
        self.stream = sys.stdout if stream is None else stream
        self.indent = indent
        self.live = live
        self._lock = threading.RLock()
        self._running: tuple[str, float] | None = None  # (step, monotonic start)
        self._note: dict[str, str] = {}
        self._live_shown = False
        self._marks = _marks(self.stream)

    def line(self, text: str) -> None:
        """Print one line of the command's own."""
        with self._lock:
            self._clear_live()
            self._write(text + "\n")
            self._draw_live()

    def step_running(self, step: str, already_s: float = 0.0) -> None:
        """``step`` runs (again, after ``already_s`` seconds in earlier parts)."""
        with self._lock:
            self._running = (step, time.monotonic() - already_s)
            self._draw_live()

    def step_note(self, text: str) -> None:
        """Progress of the running step (e.g. ``3/25 epochs``), shown live and at the end."""
        with self._lock:
            if self._running is not None:
                self._note[self._running[0]] = text
                self._draw_live()

    def step_done(self, step: str, seconds: float, notes: Sequence[str] = ()) -> None:
        """Print ``✓ step  elapsed  (notes)``."""
        notes = [*notes, *([self._note.pop(step)] if step in self._note else [])]
        extra = f"  ({'; '.join(notes)})" if notes else ""
        self._step_line(self._marks[0], step, f"{format_elapsed(seconds):>10}{extra}")

    def step_failed(self, step: str, seconds: float) -> None:
        """Print ``✗ step  elapsed  (failed)``."""
        self._step_line(self._marks[2], step, f"{format_elapsed(seconds):>10}  (failed)")

    def tick(self) -> None:
        """Redraw the live line (the elapsed time moves on)."""
        with self._lock:
            self._draw_live()

    def _step_line(self, mark: str, step: str, text: str) -> None:
        with self._lock:
            if self._running is not None and self._running[0] == step:
                self._running = None
            self._clear_live()
            self._write(f"{self.indent}{mark} {step:<10} {text}\n")
            self._draw_live()

    def _live_enabled(self) -> bool:
        if self.live is not None:
            return self.live
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def _draw_live(self) -> None:
        if self._running is None or not self._live_enabled():
            return
        step, started = self._running
        note = self._note.get(step)
        elapsed = format_elapsed(time.monotonic() - started)
        text = f"{self.indent}{self._marks[1]} {step:<10} {elapsed:>10}"
        self._write("\r\x1b[K" + text + (f"  {note}" if note else ""))
        self._live_shown = True

    def _clear_live(self) -> None:
        if self._live_shown:
            self._write("\r\x1b[K")
            self._live_shown = False

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


def _marks(stream) -> tuple[str, str, str]:
    """Done, running and failed marks, in ASCII when the stream cannot encode them."""
    try:
        "✓…✗".encode(getattr(stream, "encoding", None) or "ascii")
    except (LookupError, UnicodeEncodeError):
        return "ok", "..", "x"
    return "✓", "…", "✗"


@contextlib.contextmanager
def route_logs(
    workdir: str | os.PathLike, console: Console, *, verbose: bool = False
) -> Iterator[pathlib.Path | None]:
    """Send the libraries' logs to a new file in ``WORKDIR/logs`` while the block runs.

    Without ``verbose``: file descriptors 1 and 2 (C++ logs, Beam's worker processes,
    which inherit them), ``sys.stdout`` and ``sys.stderr``, Python logging (at INFO) and
    warnings go to the file, whose path is printed once; ``console`` keeps writing to
    the terminal. With ``verbose``: logging at INFO on stderr, no file. Either way the
    steps of :func:`stage_lines` are shown on ``console``.

    An exception leaving the block has its traceback written to the file and the file's
    path set as its :data:`LOG_PATH_ATTRIBUTE`; it propagates unchanged.

    Yields
    ------
    pathlib.Path or None
        The log file (None with ``verbose``).
    """
    if verbose:
        with _verbose_logs(console):
            yield None
        return
    wd = WorkDir(pathlib.Path(workdir).resolve())
    path = _new_log_path(wd)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", TF_CPP_MIN_LOG_LEVEL)
    console.line(f"library logs (TensorFlow, TFX, Beam): {path}")
    with open(path, "a", encoding="utf-8", errors="replace", buffering=1) as log_file:
        log_file.write(f"activespec: {' '.join(sys.argv)}\n")
        with _FileRouting(log_file, console):
            try:
                yield path
            except BaseException as err:
                log_file.write(
                    "".join(traceback.format_exception(type(err), err, err.__traceback__))
                )
                with contextlib.suppress(AttributeError, TypeError):
                    setattr(err, LOG_PATH_ATTRIBUTE, path)
                raise


@contextlib.contextmanager
def stage_lines(nodes: Sequence[str], step_of: Callable[[str], str]) -> Iterator[dict]:
    """One console line per step of a TFX run, and each node's wall time and CPU use.

    Parameters
    ----------
    nodes : sequence of str
        The node ids of the pipeline, to know when a step's last component finished.
    step_of : callable
        The step a node id belongs to; its line is printed when all of its components
        have finished, with their summed run time and the cores they kept busy.

    Yields
    ------
    dict
        Filled as nodes finish: node id -> ``{"started", "wall_s", "cpu_s", "cores"}``,
        where ``started`` is the Unix time the node started, ``cpu_s`` the CPU time of
        this process and of the child processes that ended meanwhile (Beam's worker
        processes end with their pipeline) and ``cores`` = ``cpu_s / wall_s``. Cached
        nodes are left out.

    Recognises the LocalDagRunner's records (:data:`COMPONENT_RUNNING`,
    :data:`COMPONENT_FINISHED`); prints nothing without an active :func:`route_logs`.
    """
    console = _ACTIVE
    tracker = _StepTracker(console, nodes, step_of)
    handler = _ComponentRecords(tracker)
    absl_logger = logging.getLogger("absl")
    absl_logger.addHandler(handler)
    with contextlib.ExitStack() as stack:
        if console is None:  # route_logs has not turned the runner's records on
            stack.enter_context(_absl_info())
        try:
            yield tracker.usage
        except BaseException:
            tracker.failed()
            raise
        finally:
            absl_logger.removeHandler(handler)
    tracker.close()


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its children that have ended."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@contextlib.contextmanager
def _absl_info() -> Iterator[None]:
    """absl's INFO records emitted (to Python logging only) while the block runs."""
    try:
        from absl import logging as absl_logging  # comes with TensorFlow
    except ImportError:  # pragma: no cover
        yield
        return
    verbosity = absl_logging.get_verbosity()
    logger = logging.getLogger("absl")
    level = logger.level
    absl_logging.set_verbosity(absl_logging.INFO)
    try:
        yield
    finally:
        absl_logging.set_verbosity(verbosity)
        logger.setLevel(level)


def _new_log_path(wd: WorkDir) -> pathlib.Path:
    wd.logs_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path, n = wd.log_path(stamp), 1
    while path.exists():
        n += 1
        path = wd.log_path(f"{stamp}-{n}")
    return path


class _RunningNode(NamedTuple):
    node: str
    step: str
    started: float  # time.monotonic()
    cpu_at_start: float  # cpu_seconds()
    unix_start: float  # time.time(), for the summary


class _StepTracker:
    """Components starting and finishing -> step lines on the console."""

    def __init__(self, console: Console | None, nodes: Sequence[str], step_of) -> None:
        self.console = console
        self.step_of = step_of
        self.pending: dict[str, set[str]] = {}
        for node in nodes:
            self.pending.setdefault(step_of(node), set()).add(node)
        self.size = {step: len(members) for step, members in self.pending.items()}
        self.elapsed: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.reused: dict[str, list[str]] = {}
        self.usage: dict[str, dict[str, float]] = {}
        self.current: _RunningNode | None = None

    def running(self, node: str) -> None:
        step = self.step_of(node)
        if node not in self.pending.setdefault(step, set()):
            self.pending[step].add(node)
            self.size[step] = self.size.get(step, 0) + 1
        self.current = _RunningNode(node, step, time.monotonic(), cpu_seconds(), time.time())
        if self.console is not None:
            self.console.step_running(step, self.elapsed.get(step, 0.0))

    def cached(self) -> None:
        if self.current is not None:
            self.reused.setdefault(self.current.step, []).append(self.current.node)

    def finished(self, node: str, *, skipped: bool = False) -> None:
        step = self.step_of(node)
        if self.current is not None and self.current.node == node:
            wall = time.monotonic() - self.current.started
            cpu = cpu_seconds() - self.current.cpu_at_start
            self.elapsed[step] = self.elapsed.get(step, 0.0) + wall
            self.cpu[step] = self.cpu.get(step, 0.0) + cpu
            if node not in self.reused.get(step, ()):
                self.usage[node] = {
                    "started": round(self.current.unix_start, 2),
                    "wall_s": round(wall, 2),
                    "cpu_s": round(cpu, 2),
                    "cores": round(cpu / wall, 2) if wall > 0 else None,
                }
            self.current = None
        elif skipped:
            self.reused.setdefault(step, []).append(f"{node} skipped")
        self.pending.get(step, set()).discard(node)
        if not self.pending.get(step):
            self._done(step)

    def failed(self) -> None:
        if self.current is not None:
            step = self.current.step
            if self.console is not None:
                elapsed = self.elapsed.get(step, 0.0) + time.monotonic() - self.current.started
                self.console.step_failed(step, elapsed)
            self.current = None

    def close(self) -> None:
        """Steps some of whose components did not run (a partial run) end here."""
        for step in [s for s in self.pending if s in self.elapsed]:
            self._done(step)

    def _done(self, step: str) -> None:
        self.pending.pop(step, None)
        reused = self.reused.pop(step, [])
        if reused and len(reused) >= self.size.get(step, 0):
            notes = ["reused from an earlier round"]
        else:
            notes = [f"reused: {', '.join(reused)}"] if reused else []
        seconds, cpu = self.elapsed.pop(step, 0.0), self.cpu.pop(step, 0.0)
        if seconds >= _MIN_SECONDS_FOR_CORES:
            notes.insert(0, f"{cpu / seconds:.1f} cores")
        if self.console is not None:
            self.console.step_done(step, seconds, notes)


class _ComponentRecords(logging.Handler):
    """Feeds the LocalDagRunner's component records to a :class:`_StepTracker`."""

    def __init__(self, tracker: _StepTracker) -> None:
        super().__init__(logging.INFO)
        self.tracker = tracker

    def emit(self, record: logging.LogRecord) -> None:
        try:
            node = record.args[0] if isinstance(record.args, tuple) and record.args else None
            if record.msg == COMPONENT_RUNNING:
                self.tracker.running(str(node))
            elif record.msg == COMPONENT_FINISHED:
                self.tracker.finished(str(node))
            elif record.msg == COMPONENT_SKIPPED:
                self.tracker.finished(str(node), skipped=True)
            elif record.msg == CACHED_EXECUTION:
                self.tracker.cached()
        except Exception:  # a console glitch must not stop the pipeline
            self.handleError(record)


class _LogStream(io.TextIOBase):
    """``sys.stdout``/``sys.stderr`` while routed: into the log file, watching for
    Keras' epoch lines (progress of the running step)."""

    def __init__(self, log_file, console: Console, passthrough=None) -> None:
        super().__init__()
        self._log = log_file
        self._console = console
        self._passthrough = passthrough
        self._partial = ""

    def write(self, text: str) -> int:
        (self._passthrough or self._log).write(text)
        self._partial += text
        if "\n" in self._partial:
            *lines, self._partial = self._partial.split("\n")
            for line in lines:
                match = EPOCH_LINE.match(line.strip())
                if match:
                    self._console.step_note(f"{match.group(1)}/{match.group(2)} epochs")
        return len(text)

    def flush(self) -> None:
        (self._passthrough or self._log).flush()

    def fileno(self) -> int:
        return (self._passthrough or self._log).fileno()

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:
        return getattr(self._passthrough or self._log, "encoding", "utf-8")

    @property
    def buffer(self):
        return (self._passthrough or self._log).buffer


class _LoggingState:
    """Set the root logger's handlers and the library loggers aside; restore them."""

    def __init__(self, handlers: list[logging.Handler], *, keep_library_handlers: bool) -> None:
        self.root = logging.getLogger()
        self.saved = [
            (logger, logger.handlers[:], logger.level, logger.propagate)
            for logger in [self.root, *map(logging.getLogger, LIBRARY_LOGGERS)]
        ]
        self.captured_warnings = getattr(logging, "_warnings_showwarning", None) is not None
        self.root.handlers = [*handlers]
        self.root.setLevel(logging.INFO)
        if not keep_library_handlers:
            for name in LIBRARY_LOGGERS:
                logger = logging.getLogger(name)
                logger.handlers = []
                logger.propagate = True
        # The LocalDagRunner's component records are absl INFO. absl's logger follows its
        # verbosity flag (WARNING by default), which TensorFlow sets back to the flag's
        # value after muting it (saving a model): set the flag, not only the level.
        self.absl_verbosity = None
        try:
            # absl comes with TensorFlow: the console also works without it
            from absl import logging as absl_logging
        except ImportError:  # pragma: no cover - absl comes with TensorFlow
            absl_logging = None
        if absl_logging is not None:
            self.absl_verbosity = absl_logging.get_verbosity()
            absl_logging.set_verbosity(absl_logging.INFO)
        logging.getLogger("absl").setLevel(logging.INFO)
        logging.captureWarnings(True)

    def restore(self) -> None:
        logging.captureWarnings(self.captured_warnings)
        if self.absl_verbosity is not None:
            # absl comes with TensorFlow: the console also works without it
            from absl import logging as absl_logging

            absl_logging.set_verbosity(self.absl_verbosity)
        for logger, handlers, level, propagate in self.saved:
            logger.handlers = handlers
            logger.setLevel(level)
            logger.propagate = propagate


class _FileRouting:
    """File descriptors 1 and 2, sys.stdout/stderr, logging and warnings into one file;
    the console onto a copy of the terminal."""

    def __init__(self, log_file, console: Console) -> None:
        self.log_file = log_file
        self.console = console

    def __enter__(self) -> _FileRouting:
        global _ACTIVE
        _flush(sys.stdout, sys.stderr)
        self.console_stream = self.console.stream
        self.own_console_stream = _off_std_fds(self.console.stream)
        if self.own_console_stream is not None:
            self.console.stream = self.own_console_stream
        self.saved_fds = {}
        for fd in (1, 2):
            with contextlib.suppress(OSError):
                self.saved_fds[fd] = os.dup(fd)
                os.dup2(self.log_file.fileno(), fd)
        self.saved_streams = sys.stdout, sys.stderr
        sys.stdout = _LogStream(self.log_file, self.console)
        sys.stderr = _LogStream(self.log_file, self.console)
        handler = logging.StreamHandler(self.log_file)
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )
        self.logging_state = _LoggingState([handler], keep_library_handlers=False)
        self.previous, _ACTIVE = _ACTIVE, self.console
        self.ticker = _Ticker(self.console) if self.console._live_enabled() else None
        return self

    def __exit__(self, *exc) -> None:
        global _ACTIVE
        if self.ticker is not None:
            self.ticker.stop()
        _ACTIVE = self.previous
        _flush(sys.stdout, sys.stderr, self.log_file)
        self.logging_state.restore()
        sys.stdout, sys.stderr = self.saved_streams
        for fd, copy in self.saved_fds.items():
            os.dup2(copy, fd)
            os.close(copy)
        with self.console._lock:
            self.console._clear_live()
        if self.own_console_stream is not None:
            self.console.stream = self.console_stream
            self.own_console_stream.close()


@contextlib.contextmanager
def _verbose_logs(console: Console) -> Iterator[None]:
    """The full logs on stderr, at INFO; the step lines on the console too."""
    global _ACTIVE
    root = logging.getLogger()
    handlers = root.handlers[:]
    if not any(getattr(h, "stream", None) in (sys.stderr, sys.stdout) for h in handlers):
        console_handler = logging.StreamHandler(sys.stderr)
        console_handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handlers.append(console_handler)
    state = _LoggingState(handlers, keep_library_handlers=True)
    saved_stdout, saved_live = sys.stdout, console.live
    console.live = False  # a live line would cut the log lines
    sys.stdout = _LogStream(None, console, passthrough=saved_stdout)
    previous, _ACTIVE = _ACTIVE, console
    try:
        yield
    finally:
        _ACTIVE = previous
        sys.stdout, console.live = saved_stdout, saved_live
        state.restore()


def _off_std_fds(stream):
    """A copy of ``stream`` on a duplicate of its file descriptor when that is 1 or 2
    (about to be redirected); None when ``stream`` can stay as it is."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None
    if fd not in (1, 2):
        return None
    stream.flush()
    return open(
        os.dup(fd),
        "w",
        encoding=getattr(stream, "encoding", None) or "utf-8",
        errors="replace",
        buffering=1,
    )


def _flush(*streams) -> None:
    for stream in streams:
        with contextlib.suppress(Exception):
            stream.flush()


class _Ticker:
    """Redraws the console's live line every second."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="activespec-console", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(_LIVE_INTERVAL_S):
            self.console.tick()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
