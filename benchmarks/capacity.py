"""One real night of a large org: wall time, peak memory, and bytes per customer on disk.

    uv run python benchmarks/capacity.py --customers 50000

`badges run` (through Dagster, in a child process) against a sandbox child process with
no latency and no rate limit, into a fresh data directory. Reported: the wall time and
the run's summary line of requests, the peak RSS of the run's process (wait4), and the
bytes of the raw archive, the lake tables and the warehouse, in total and per customer.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.measure import run_child
from benchmarks.target import PROJECT_ROOT, sandbox_target
from benchmarks.whole_run import badges_run
from pipelines.lake import Lake


def size_of(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=50000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="badges-capacity-") as tmp:
        workdir = Path(tmp)
        with sandbox_target(args.customers, 80, 0.0, workdir) as target:
            argv_, env = badges_run(target, workdir)
            child = run_child(argv_, env, PROJECT_ROOT)
        if child.returncode != 0:
            print(child.stdout[-3000:], child.stderr[-3000:])
            return 1
        lake = Lake(workdir / "data")
        raw = size_of(lake.lake_dir / "raw")
        tables = size_of(lake.lake_dir) - raw
        warehouse = lake.warehouse_path.stat().st_size
        summary = [line.strip() for line in child.stdout.splitlines() if "requests" in line]
        print(f"customers          {args.customers:,}")
        print(f"wall time          {child.seconds:,.1f} s ({summary[0] if summary else '?'})")
        print(f"CPU time           {child.cpu_seconds:,.1f} s")
        print(f"peak RSS           {child.peak_rss_mib:,.0f} MiB")
        for label, size in (
            ("raw archive", raw),
            ("lake tables", tables),
            ("warehouse", warehouse),
        ):
            print(
                f"{label:<19}{size / 2**20:,.1f} MiB, {size / args.customers:,.0f} bytes/customer"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
