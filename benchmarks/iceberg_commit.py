"""The Iceberg commit of one large night beside the night's tail (`tail.py`).

    uv run python benchmarks/iceberg_commit.py --customers 200000

Runs the tail of `tail.py` (`badges replay` of a cached archive in a child process), whose
extract step commits the night's partitions to the embedded catalog; the commit's own time
is read from its log line. Then, in this process, over the partitions that replay wrote:
the first commit of the night into a fresh catalog, and a rerun's commit replacing the
date's partition. Printed: the three commit times, the tail's time and the ratio of the
replayed night's commit to it (the target: at most 10%).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.archive import RESULTS_DIR, ArchiveSpec, cached_archive
from benchmarks.tail import linked_data_dir, replay
from pipelines.lake.iceberg import LakeCatalog
from pipelines.lake.iceberg_catalog import CATALOG_FILE, embedded_catalog

COMMITTED = re.compile(r"iceberg: \S+ committed to (\d+) tables .* in ([0-9.]+) s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2, help="processes building the archive")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    spec = ArchiveSpec(args.customers)
    raw_dir, _ = cached_archive(spec, args.results, args.workers)
    workdir = args.results / "iceberg-commit" / spec.name
    lake = linked_data_dir(raw_dir, spec, workdir)
    child, _, _ = replay(lake, spec, workdir)
    logged = COMMITTED.search(child.stdout + child.stderr)
    if logged is None:
        raise RuntimeError("the replay logged no Iceberg commit")
    in_tail = float(logged.group(2))
    files = sum(len(lake.table_files(t, spec.snapshot_date)) for t in _tables())
    size = sum(p.stat().st_size for t in _tables() for p in lake.table_files(t, spec.snapshot_date))
    shutil.rmtree(lake.lake_dir / "iceberg")
    (lake.lake_dir / CATALOG_FILE).unlink()
    first = _timed(
        lambda: LakeCatalog(embedded_catalog(lake)).commit_night(
            lake, spec.snapshot_date, "bench-1"
        )
    )
    rerun = _timed(
        lambda: LakeCatalog(embedded_catalog(lake)).commit_night(
            lake, spec.snapshot_date, "bench-2"
        )
    )
    shutil.rmtree(workdir)
    print(f"partitions  {files} files, {size / 2**20:,.1f} MiB")
    print(f"commit in the replay's step        {in_tail:8.2f} s")
    print(f"first commit, fresh catalog        {first:8.2f} s")
    print(f"rerun's commit, date replaced      {rerun:8.2f} s")
    print(f"night tail (badges replay)         {child.seconds:8.2f} s")
    print(
        f"iceberg commit, {spec.customers} customers: {in_tail:.2f} s, "
        f"{100 * in_tail / child.seconds:.1f}% of the tail's {child.seconds:.1f} s"
    )
    return 0


def _tables() -> list[str]:
    from pipelines.lake.tables import TABLES

    return list(TABLES)


def _timed(action) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


if __name__ == "__main__":
    sys.exit(main())
