"""Worker processes started safely from any caller.

The simulator and the report's thumbnails run in worker processes. ``fork`` is the
cheapest start, but a process that runs other threads (TensorFlow, gRPC and Beam run
many) cannot be forked safely: the child inherits their locks in whatever state those
threads left them.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading

#: Modules whose native threads make a forked child unsafe.
THREADED_MODULES = ("tensorflow", "grpc", "apache_beam", "faiss", "torch")


def start_method() -> str:
    """``fork`` from a plain process: no re-import of the caller's ``__main__`` (scripts
    need no main guard). From a process that runs other threads or has loaded one of
    :data:`THREADED_MODULES` (a pipeline, a notebook, a test run), ``forkserver`` (else
    ``spawn``): forking such a process can hang or crash the child, and in a long test
    run it coincided with memory corruption in the parent."""
    methods = multiprocessing.get_all_start_methods()
    # tqdm's own monitor thread only sleeps and reads the bars: it does not count.
    from tqdm._monitor import TMonitor

    others = [
        thread
        for thread in threading.enumerate()
        if thread is not threading.main_thread() and not isinstance(thread, TMonitor)
    ]
    plain = not others and not any(name in sys.modules for name in THREADED_MODULES)
    if plain and "fork" in methods:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def context() -> multiprocessing.context.BaseContext:
    """The multiprocessing context of :func:`start_method`."""
    return multiprocessing.get_context(start_method())
