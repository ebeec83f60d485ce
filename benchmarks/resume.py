"""Kill and resume: a `badges run` killed with SIGKILL part-way, then run again for the same day.

    uv run python benchmarks/resume.py --customers 300 --kill-at 0.25 0.5 0.75

An uninterrupted run gives the night's request count. Each killed run is SIGKILLed (its
whole process group) once the sandbox has served that share of the count; the rerun's
requests are then compared with what was missing, and its published contract tables
with the uninterrupted run's, row for row. The client paces each API (`--pace`) so the
kill lands mid-extraction; checkpoints are written every `--checkpoint-seconds`.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb

from benchmarks.compare import rows_apart
from benchmarks.target import PROJECT_ROOT, Target
from benchmarks.whole_run import badges_run
from pipelines.lake import Lake
from pipelines.sandbox import SandboxCredentials, SandboxServer, generate_org


def differing_rows(a: Path, b: Path) -> int:
    """Rows in one warehouse's contract tables and not the other's (both directions)."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
        apart = rows_apart(con, lambda t: f"a.main.{t.name}", lambda t: f"b.main.{t.name}")
    return sum(apart.values())


def run_to_end(target: Target, workdir: Path, env: dict[str, str]) -> None:
    argv, environment = badges_run(target, workdir, **env)
    done = subprocess.run(argv, env=environment, cwd=PROJECT_ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"badges run failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def kill_at(server: SandboxServer, target: Target, workdir: Path, env: dict, requests: int) -> int:
    """Starts a run, SIGKILLs its process group after `requests`; returns requests served."""
    argv, environment = badges_run(target, workdir, **env)
    start = server.stats.total_requests
    run = subprocess.Popen(
        argv,
        env=environment,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    while server.stats.total_requests - start < requests and run.poll() is None:
        time.sleep(0.002)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    return server.stats.total_requests - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--kill-at", type=float, nargs="+", default=[0.25, 0.5, 0.75])
    parser.add_argument("--pace", default="100/s", help="the client's budget per API")
    parser.add_argument("--checkpoint-seconds", default="1")
    args = parser.parse_args(argv)
    env = {"CAPILLARY_RATE_LIMIT": args.pace, "BADGES_CHECKPOINT_SECONDS": args.checkpoint_seconds}
    with tempfile.TemporaryDirectory(prefix="badges-resume-") as tmp:
        root = Path(tmp)
        org = generate_org(args.customers, 80, 7)
        csv = root / "customers.csv"
        org.write_customers_csv(csv)
        credentials = SandboxCredentials.random()
        with SandboxServer(org, credentials) as server:
            target = Target(server.base_url, credentials.username, credentials.password, csv)
            before = server.stats.total_requests
            run_to_end(target, root / "whole", env)
            full = server.stats.total_requests - before
            print(f"uninterrupted night: {full:,} requests ({args.customers} customers)")
            print(
                f"{'killed at':>9}{'served':>9}{'missing':>9}{'rerun':>9}{'rerun/full':>12}  tables"
            )
            for fraction in args.kill_at:
                workdir = root / f"killed-{fraction}"
                served = kill_at(server, target, workdir, env, round(fraction * full))
                before = server.stats.total_requests
                run_to_end(target, workdir, env)
                rerun = server.stats.total_requests - before
                same = differing_rows(
                    Lake(root / "whole" / "data").warehouse_path,
                    Lake(workdir / "data").warehouse_path,
                )
                verdict = "equal" if same == 0 else f"{same} rows differ"
                print(
                    f"{fraction:>9.0%}{served:>9,}{full - served:>9,}{rerun:>9,}"
                    f"{rerun / full:>12.1%}  {verdict}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
