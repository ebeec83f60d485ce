"""The files one customer id passes through in a night, traced from a real `badges run`.

    uv run python benchmarks/customer_path.py

Starts a sandbox of a few customers and runs `badges run` for today in a child process.
Every Python process of the run (the run itself and the normalizer beside it) loads a
`sitecustomize` that installs a profile hook; the hook notes each function of the
project's code (`pipelines/`, `assets/`) the first time it is called with the first
customer's id among its arguments: the id itself, a request path holding it, an object
with that `customer_id`, a row dict of it, or a short tuple or list holding one of those.

Read in that order, the functions are the path a reader follows to learn what happens to
one customer. Printed: the files in the order the id reaches them (each with the number
of its functions on the path), then the line
`files visited by one customer id: F, returns to a file already left: R`, where R counts
each time the path comes back to a file it had moved on from.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
from collections import Counter
from itertools import groupby
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.measure import run_child
from benchmarks.target import PROJECT_ROOT, sandbox_target
from benchmarks.whole_run import badges_run
from pipelines.extract.customers import load_customers

TRACED_PACKAGES = ("pipelines/", "assets/")
HOOK = """
import os, sys, threading, time

_ID = os.environ["CUSTOMER_PATH_ID"]
_ROOT = os.environ["CUSTOMER_PATH_ROOT"]
_PACKAGES = tuple(os.environ["CUSTOMER_PATH_PACKAGES"].split(","))
_DIR = os.environ["CUSTOMER_PATH_DIR"]
_seen = set()
_out = None


def _open():
    global _out
    _seen.clear()
    _out = open(os.path.join(_DIR, f"{os.getpid()}.txt"), "a", buffering=1)


def _holds(value, depth=0):
    try:
        return _holds_id(value, depth)
    except Exception:  # a hook must never raise into the code it watches
        return False


def _holds_id(value, depth):
    if isinstance(value, str):
        return value == _ID or ("/" + _ID) in value
    if isinstance(value, dict):
        return value.get("customer_id") == _ID if "customer_id" in value else False
    if type(value) in (tuple, list) or (isinstance(value, tuple) and hasattr(value, "_fields")):
        return depth == 0 and len(value) <= 8 and any(_holds(v, 1) for v in value)
    return getattr(value, "customer_id", None) == _ID


def _hook(frame, event, arg):
    if event != "call" or frame.f_code in _seen:
        return
    path = frame.f_code.co_filename
    if not path.startswith(_ROOT) or not path[len(_ROOT):].startswith(_PACKAGES):
        return
    if any(_holds(v) for v in list(frame.f_locals.values())):
        _seen.add(frame.f_code)
        _out.write(f"{time.monotonic_ns()} {path[len(_ROOT):]} {frame.f_code.co_name}\\n")


_open()
os.register_at_fork(after_in_child=_open)
sys.setprofile(_hook)
threading.setprofile(_hook)
"""


def traced_run(customers: int, workdir: Path) -> tuple[list[str], int]:
    """`badges run` with the hook: the traced files of every process, merged in time order
    (CLOCK_MONOTONIC is one clock for all processes), and how many processes had any."""
    hook_dir, trace_dir = workdir / "hook", workdir / "trace"
    hook_dir.mkdir()
    trace_dir.mkdir()
    (hook_dir / "sitecustomize.py").write_text(HOOK)
    with sandbox_target(customers, 20, 0.0, workdir) as target:
        today = dt.datetime.now(dt.UTC).date().isoformat()
        argv, env = badges_run(target, workdir, "--date", today)
        env["PYTHONPATH"] = os.pathsep.join([str(hook_dir), env["PYTHONPATH"]])
        env |= {
            "CUSTOMER_PATH_ID": load_customers(target.customers_csv)[0].customer_id,
            "CUSTOMER_PATH_ROOT": f"{PROJECT_ROOT}/",
            "CUSTOMER_PATH_PACKAGES": ",".join(TRACED_PACKAGES),
            "CUSTOMER_PATH_DIR": str(trace_dir),
        }
        done = run_child(argv, env, PROJECT_ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"the traced run failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    traces = [path.read_text().splitlines() for path in trace_dir.glob("*.txt")]
    calls = [line.split(" ") for trace in traces for line in trace]
    calls.sort(key=lambda call: int(call[0]))
    return [file for _, file, _ in calls], sum(1 for trace in traces if trace)


def path_figures(files: list[str]) -> tuple[list[tuple[str, int]], int]:
    """The files in first-reached order with their calls, and the returns to a left file."""
    visits = [file for file, _ in groupby(files)]
    calls = Counter(files)  # in first-reached order
    return list(calls.items()), len(visits) - len(calls)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="badges-path-") as tmp:
        files, processes = traced_run(args.customers, Path(tmp))
    order, returns = path_figures(files)
    for file, calls in order:
        print(f"{file:<48}{calls:>4} function(s)")
    print(f"processes on the path: {processes}")
    print(
        f"files visited by one customer id: {len(order)}, returns to a file already left: {returns}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
