"""Normalizer throughput on a real raw archive: records/s and rows/s, best of a few runs.

    uv run python benchmarks/normalize.py RAW_DIR [--repeat N] [--lake DIR] [--customers N]

RAW_DIR is a snapshot's raw directory (`lake/raw/snapshot_date=D/`). Each run
normalizes the whole archive with `normalize_snapshot` (reading the raw Parquet,
flattening, deduplicating, writing every table) into a scratch lake, on one core.
With `--customers N` and no RAW_DIR yet, an archive is first extracted there from a
sandbox org of N customers (80 badges, seed 7, no added latency).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.target import sandbox_target
from pipelines.client.settings import ApiSettings
from pipelines.extract.customers import load_customers
from pipelines.extract.extraction import extract_to_archive
from pipelines.lake import Lake
from pipelines.normalize.normalizer import NormalizeReport, normalize_snapshot


def snapshot_date_of(raw_dir: Path) -> dt.date:
    """The date in a `snapshot_date=YYYY-MM-DD` directory name, else today (UTC)."""
    _, _, text = raw_dir.name.partition("snapshot_date=")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return dt.datetime.now(dt.UTC).date()


def extract_sandbox_archive(raw_dir: Path, customers: int) -> None:
    """Every call of a fresh sandbox org of `customers` into `raw_dir`."""
    with (
        tempfile.TemporaryDirectory(prefix="normalize-bench-org-") as workdir,
        sandbox_target(customers, badges=80, latency_ms=0.0, workdir=Path(workdir)) as target,
    ):
        settings = ApiSettings(target.base_url, username=target.username, password=target.password)
        extract_to_archive(settings, load_customers(target.customers_csv), raw_dir)


def timed_run(raw_dir: Path, lake: Lake, snapshot_date: dt.date) -> tuple[float, NormalizeReport]:
    started = time.perf_counter()
    report = normalize_snapshot(raw_dir, lake, snapshot_date)
    return time.perf_counter() - started, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("raw_dir", type=Path)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the fastest one counts")
    parser.add_argument("--lake", type=Path, default=None, help="write the tables here (kept)")
    parser.add_argument(
        "--customers",
        type=int,
        default=None,
        help="extract a sandbox archive if RAW_DIR is missing",
    )
    args = parser.parse_args()
    if args.customers and not args.raw_dir.exists():
        extract_sandbox_archive(args.raw_dir, args.customers)
    snapshot_date = snapshot_date_of(args.raw_dir)
    with tempfile.TemporaryDirectory(prefix="normalize-bench-") as scratch:
        lake = Lake(args.lake or Path(scratch))
        runs = [timed_run(args.raw_dir, lake, snapshot_date) for _ in range(max(1, args.repeat))]
    seconds, report = min(runs, key=lambda run: run[0])
    rows = sum(report.rows.values())
    print(f"archive  {args.raw_dir}")
    print(
        f"records  {report.records_read:,}   rows {rows:,}   best of {len(runs)}: {seconds:.3f} s"
    )
    print(f"records/s {report.records_read / seconds:,.0f}")
    print(f"rows/s    {rows / seconds:,.0f}")


if __name__ == "__main__":
    main()
