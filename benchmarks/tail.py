"""The night's tail at scale: normalize, load, check, history, models, report and publish of
one large snapshot, as `badges replay` runs them, with time and memory per step.

    uv run python benchmarks/tail.py --customers 200000

The raw archive of a sandbox org of N customers (80 badges, seed 7) is built without
HTTP (`benchmarks/archive.py`, in parallel parts; with `--distinct D`, D customers are
generated and copied N/D times under other ids) and cached under
`benchmarks/results/archives/`. Its day is a fixed past date
(`ArchiveSpec.snapshot_date`): a replay calls no API, and the cache then holds from one
day to the next. Each run links it into a fresh data directory and runs `python -m
pipelines.cli replay` in a child process, sampling the resident memory of that process
and its children. The `BADGES_DUCKDB_*` variables of this environment reach the child;
no other pipeline setting does. Printed: a line per Dagster step (seconds and peak RSS
while it ran), then `night tail, N customers: S s, peak RSS M MiB`, where S is the
child's wall time (start-up included) and M the highest sample (or the child's own peak
from wait4, when higher).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.archive import RESULTS_DIR, ArchiveSpec, cached_archive
from benchmarks.measure import ChildRun, TreeRss, run_child
from benchmarks.target import PROJECT_ROOT, project_env
from benchmarks.whole_run import quiet_dagster_home, step_windows
from pipelines.lake import Lake

DUCKDB_VARIABLES = ("BADGES_DUCKDB_MEMORY_LIMIT", "BADGES_DUCKDB_THREADS")
PUBLISHED = re.compile(r"published \(run ([0-9a-f-]+)\)")


def linked_data_dir(raw_dir: Path, spec: ArchiveSpec, workdir: Path) -> Lake:
    """A fresh data directory under `workdir` whose archive of the day is `raw_dir`, linked."""
    shutil.rmtree(workdir, ignore_errors=True)
    lake = Lake(workdir / "data")
    target = lake.raw_dir(spec.snapshot_date)
    target.mkdir(parents=True)
    for path in raw_dir.glob("*.parquet"):
        os.link(path, target / path.name)
    return lake


def replay(lake: Lake, spec: ArchiveSpec, workdir: Path) -> tuple[ChildRun, TreeRss, str]:
    """`badges replay` of the day in a child process; its run, memory samples and run id."""
    dagster_home = quiet_dagster_home(workdir)
    env = project_env(
        keep=DUCKDB_VARIABLES, BADGES_DATA_DIR=str(lake.root), DAGSTER_HOME=str(dagster_home)
    )
    argv = [sys.executable, "-m", "pipelines.cli", "replay", "--date", str(spec.snapshot_date)]
    memory = TreeRss()
    try:
        child = run_child(argv, env, PROJECT_ROOT, on_start=memory.start)
    finally:
        memory.stop()
    published = PUBLISHED.search(child.stdout)
    if child.returncode != 0 or published is None:
        raise RuntimeError(f"the replay failed:\n{child.stdout[-3000:]}{child.stderr[-3000:]}")
    return child, memory, published.group(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2, help="processes building the archive")
    parser.add_argument("--part-customers", type=int, default=ArchiveSpec.part_customers)
    parser.add_argument(
        "--distinct",
        type=int,
        default=None,
        help="generate this many customers and copy them up to --customers (a divisor of it)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the run's data directory")
    parser.add_argument(
        "--results",
        type=Path,
        default=RESULTS_DIR,
        help="where archives are cached and the run's data directory is made",
    )
    args = parser.parse_args(argv)
    if min(args.customers, args.part_customers, args.workers, args.distinct or 1) < 1:
        parser.error("--customers, --part-customers, --workers and --distinct must be at least 1")
    try:
        spec = ArchiveSpec(
            args.customers, part_customers=args.part_customers, distinct=args.distinct
        )
    except ValueError as error:
        parser.error(str(error))
    raw_dir, built = cached_archive(spec, args.results, args.workers)
    files = list(raw_dir.glob("*.parquet"))
    size = sum(path.stat().st_size for path in files)
    print(
        f"archive  {raw_dir} ({'built now' if built else 'cached'}): "
        f"{len(files):,} files, {size / 2**20:,.0f} MiB"
    )
    workdir = args.results / "tail-run" / spec.name
    lake = linked_data_dir(raw_dir, spec, workdir)
    child, memory, run_id = replay(lake, spec, workdir)
    windows = step_windows(workdir / "dagster-home", run_id)
    for step, (start, end) in windows.items():
        peak = memory.peak_mib(start, end)
        print(f"step  {step:<44}{end - start:>9.1f} s  peak RSS {peak:>7,.0f} MiB")
    if not args.keep:
        shutil.rmtree(workdir)
    starts, ends = zip(*windows.values(), strict=True)
    in_steps = max(ends) - min(starts)  # from the first step's start to the last one's end
    print(f"outside steps (start-up, Dagster){child.seconds - in_steps:>20.1f} s")
    print(f"CPU time (the replay and the processes it waited for) {child.cpu_seconds:.1f} s")
    peak = max(memory.peak_mib(), child.peak_rss_mib)
    print(f"night tail, {spec.customers} customers: {child.seconds:.1f} s, peak RSS {peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
