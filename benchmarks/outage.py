"""Seconds from an API outage to `badges run` exiting non-zero, whatever the org's size.

    uv run python benchmarks/outage.py --customers 300 5000

Two outages, each against a fresh data directory (nothing published, nothing to resume):

- **down at start**: `CAPILLARY_BASE_URL` is a port where nothing listens;
- **stopped under the run**: the sandbox is killed (SIGKILL) once the run has made a few
  hundred requests; the figure is the time from the kill to the run's exit.

The wall time includes the interpreter and Dagster start-up of `badges run`.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.target import PROJECT_ROOT, Target
from benchmarks.whole_run import badges_run
from pipelines.sandbox import Faults, SandboxCredentials, SandboxServer, generate_org

REQUESTS_BEFORE_THE_STOP = 300


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_run(target: Target, workdir: Path) -> subprocess.Popen[str]:
    argv, environment = badges_run(target, workdir)
    return subprocess.Popen(
        argv,
        env=environment,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _row(customers: int, outage: str, seconds: float, run: subprocess.Popen, stdout: str) -> str:
    reasons = [line.strip() for line in stdout.splitlines() if line.startswith("  ")]
    reason = (reasons[0] if reasons else stdout.strip())[:110]
    return f"{customers:>9,}  {outage:<22}{seconds:>8.1f} s  exit {run.returncode}  {reason}"


def down_at_start(customers: int, workdir: Path) -> str:
    org = generate_org(customers, 80, 7)
    csv = workdir / "customers.csv"
    org.write_customers_csv(csv)
    target = Target(f"http://127.0.0.1:{_closed_port()}", "user", "not-used", csv)
    started = time.monotonic()
    run = _start_run(target, workdir / "down")
    stdout, _ = run.communicate(timeout=600)
    seconds = time.monotonic() - started
    return _row(customers, "down at start", seconds, run, stdout)


def stopped_under_the_run(customers: int, workdir: Path) -> str:
    org = generate_org(customers, 80, 7)
    csv = workdir / "customers.csv"
    org.write_customers_csv(csv)
    credentials = SandboxCredentials.random()
    server = SandboxServer(org, credentials, Faults(latency_ms=20)).start()
    target = Target(server.base_url, credentials.username, credentials.password, csv)
    run = _start_run(target, workdir / "stopped")
    while server.stats.total_requests < REQUESTS_BEFORE_THE_STOP and run.poll() is None:
        time.sleep(0.01)
    server.stop()  # the listening socket closes: every new connection is refused
    stopped = time.monotonic()
    stdout, _ = run.communicate(timeout=600)
    seconds = time.monotonic() - stopped
    return _row(customers, "stopped under the run", seconds, run, stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[300, 5000])
    args = parser.parse_args(argv)
    print(f"{'customers':>9}  {'outage':<22}{'to exit':>10}")
    for customers in args.customers:
        with tempfile.TemporaryDirectory(prefix="badges-outage-") as tmp:
            print(down_at_start(customers, Path(tmp)), flush=True)
            print(stopped_under_the_run(customers, Path(tmp)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
