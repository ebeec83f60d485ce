"""A night's disk need: the estimate a night checks before its first call against what it wrote.

    uv run python benchmarks/disk.py --customers 300

`--nights` runs of `badges run` for today against a sandbox child process, into a
temporary data directory: the first is estimated per customer (nothing to go on), each
next one from the last one's sizes. For each, the estimate (with its margin) and what the
night wrote before its swap-in: the raw archive, the lake partitions and the staging
warehouse, whose size is the published file's once renamed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.measure import run_child
from benchmarks.target import PROJECT_ROOT, sandbox_target
from benchmarks.whole_run import badges_run
from pipelines.lake import Lake
from pipelines.lake.space import DiskNeed, directory_bytes, estimate_need, mib
from pipelines.lake.tables import TABLES


def written(lake: Lake, day: dt.date) -> tuple[int, int, int]:
    """Raw archive, lake partitions and warehouse bytes of the night of `day`."""
    lake_bytes = sum(directory_bytes(lake.table_dir(name, day)) for name in TABLES)
    return directory_bytes(lake.raw_dir(day)), lake_bytes, lake.warehouse_path.stat().st_size


def night(label: str, need: DiskNeed, argv: list[str], env: dict, lake: Lake) -> None:
    done = run_child(argv, env, PROJECT_ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{label} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    raw, lake_bytes, warehouse = written(lake, dt.datetime.now(dt.UTC).date())
    total = raw + lake_bytes + warehouse
    print(
        f"{label}: estimated {mib(need.total)} ({need.basis}); wrote {mib(total)} "
        f"(raw {mib(raw)}, lake {mib(lake_bytes)}, warehouse {mib(warehouse)}); "
        f"estimate / written {need.total / total:.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--badges", type=int, default=80)
    parser.add_argument("--nights", type=int, default=3, help="nights of today, run in turn")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="badges-disk-") as tmp:
        workdir = Path(tmp)
        lake = Lake(workdir / "data")
        with sandbox_target(args.customers, args.badges, 0.0, workdir) as target:
            command, env = badges_run(target, workdir)
            for number in range(1, args.nights + 1):
                need = estimate_need(lake, args.customers, args.customers)
                assert need is not None  # the customers are known
                night(f"night {number}", need, command, env, lake)
    return 0


if __name__ == "__main__":
    sys.exit(main())
