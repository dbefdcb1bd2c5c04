"""Run a whole round or campaign in a fresh process, as a user's command does.

A round loads TensorFlow, TFX and Beam into the process that runs it: gRPC servers and
thread pools of the multi-processing DirectRunner, TensorFlow's thread pools, native
allocations of every library. In an xdist worker that state would stay for the worker's
later tests; a fresh process per campaign keeps the workers free of it, as a user's
command is. (The workers that died of corrupted memory in about one full run in four
had written VOTables with astropy's C TABLEDATA writer: see
``activespec.catalogue.writers.write_votable``.)
"""

from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
import subprocess
import sys


def in_fresh_process(function, /, *args, **kwargs):
    """``function(*args, **kwargs)`` in a newly spawned process; its result, or its
    exception raised here (arguments, result and exception must pickle)."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as executor:
        return executor.submit(function, *args, **kwargs).result()


def discard(line: str) -> None:
    """A campaign's ``log`` that prints nothing (a lambda does not pickle)."""


def loaded_by_import(modules, watched) -> set[str]:
    """Which of the ``watched`` top-level modules importing ``modules`` (names) loads,
    in a fresh interpreter, as a Beam worker or a light command starts."""
    code = (
        f"import json, sys\nfor name in {list(modules)!r}: __import__(name)\n"
        f"print(json.dumps(sorted(set({sorted(watched)!r}) & set(sys.modules))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))
