"""A night killed after its seal, run again; a damaged partition healed.

    uv run python benchmarks/tail_resume.py --customers 800
    uv run python benchmarks/tail_resume.py --world vendor

An uninterrupted `badges run` gives the night's requests and seconds. Then, for each crash
point after the seal (`BADGES_KILL_AT`: "sealed", "load", "publish"), a run killed there
and the rerun for the same day: the requests the rerun made (0 expected), its seconds, and
whether its published contract tables equal the uninterrupted run's row for row. Last, a
copy of the uninterrupted data directory with its `customer_badges` partition cut in half:
the seconds `heal_night` takes to rebuild it from the archive, and the next `badges run`
over it (exit code, seconds, requests).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.resume import differing_rows
from benchmarks.target import PROJECT_ROOT, Target
from benchmarks.whole_run import badges_run
from pipelines.lake import Lake
from pipelines.lake.failpoints import KILL_AT_VARIABLE
from pipelines.lake.tables import CUSTOMER_BADGES
from pipelines.night.heal import heal_night
from pipelines.sandbox import SandboxCredentials, SandboxServer, generate_org
from pipelines.sandbox.vendor_world import VendorWorld

KILL_POINTS = ("sealed", "load", "publish")


def timed_run(target: Target, workdir: Path, **env: str) -> tuple[int, float, str]:
    """One `badges run`: its exit code, wall seconds and output."""
    argv, environment = badges_run(target, workdir, **env)
    started = time.monotonic()
    done = subprocess.run(argv, env=environment, cwd=PROJECT_ROOT, capture_output=True, text=True)
    return done.returncode, time.monotonic() - started, done.stdout + done.stderr


def server_for(world: str, customers: int, root: Path) -> tuple[SandboxServer, Path]:
    credentials = SandboxCredentials.random()
    csv = root / "customers.csv"
    if world == "vendor":
        vendor = VendorWorld()
        vendor.write_customers_csv(csv)
        return SandboxServer(world=vendor, credentials=credentials), csv
    org = generate_org(customers, 80, 7)
    org.write_customers_csv(csv)
    return SandboxServer(org, credentials), csv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=800)
    parser.add_argument("--world", choices=["sandbox", "vendor"], default="sandbox")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="badges-tail-") as tmp:
        root = Path(tmp)
        server, csv = server_for(args.world, args.customers, root)
        with server:
            creds = server.credentials
            target = Target(server.base_url, creds.username, creds.password, csv)
            whole = root / "whole"
            before = server.stats.total_requests
            code, seconds, output = timed_run(target, whole)
            if code != 0:
                raise RuntimeError(f"the uninterrupted night failed:\n{output[-3000:]}")
            full = server.stats.total_requests - before
            print(f"{args.world} world: uninterrupted night {full:,} requests in {seconds:.1f} s")
            print(f"{'killed at':>10}{'exit':>6}{'rerun requests':>16}{'rerun s':>9}  tables")
            for point in KILL_POINTS:
                workdir = root / f"killed-{point}"
                killed, _, _ = timed_run(target, workdir, **{KILL_AT_VARIABLE: point})
                before = server.stats.total_requests
                code, seconds, output = timed_run(target, workdir)
                rerun = server.stats.total_requests - before
                if code != 0:
                    raise RuntimeError(f"the rerun after {point} failed:\n{output[-3000:]}")
                apart = differing_rows(
                    Lake(whole / "data").warehouse_path, Lake(workdir / "data").warehouse_path
                )
                verdict = "equal" if apart == 0 else f"{apart} rows differ"
                print(f"{point:>10}{killed:>6}{rerun:>16,}{seconds:>9.1f}  {verdict}", flush=True)
            damaged_night(server, target, root)
    return 0


def damaged_night(server: SandboxServer, target: Target, root: Path) -> None:
    today = dt.datetime.now(dt.UTC).date()
    for label in ("heal_night", "badges run"):
        workdir = root / f"damaged-{label.replace(' ', '-')}"
        shutil.copytree(root / "whole" / "data", workdir / "data")
        lake = Lake(workdir / "data")
        [part] = lake.table_files(CUSTOMER_BADGES.name, today)
        part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
        if label == "heal_night":
            started = time.monotonic()
            healed = heal_night(lake, today)
            took = time.monotonic() - started
            name = part.relative_to(lake.root)
            print(f"{name} cut in half: heal_night rebuilt {len(healed)} file(s) in {took:.2f} s")
            continue
        before = server.stats.total_requests
        code, seconds, output = timed_run(target, workdir)
        requests = server.stats.total_requests - before
        warned = "warning names the file" if f"warning: {part} cannot be read" in output else "?"
        print(f"next night over it: exit {code}, {seconds:.1f} s, {requests:,} requests, {warned}")


if __name__ == "__main__":
    sys.exit(main())
