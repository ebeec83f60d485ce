"""Extraction benchmark: the pipeline's extraction against a bare-client floor and a whole run.

    uv run python benchmarks/extraction.py --customers 1000 --latency-ms 20

Starts a sandbox child process with the given latency, then measures, each in a
child process of its own (so its peak RSS is its alone):

- the pipeline's extraction (`extract_to_archive`), after one unmeasured warm-up
  extraction that fills the sandbox's response cache;
- the floor: the archived request set replayed by a bare async loop, through the
  pipeline's client stack and through the other clients for comparison;
- the whole run, `badges run` through Dagster (skip with --skip-whole-run);
- the extraction again at --scale times the customers, to show memory staying flat.

See benchmarks/README.md for what each figure means and the targets.
"""

from __future__ import annotations

import argparse
import pstats
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.floor import CLIENT_OF_TRANSPORT, CLIENTS
from benchmarks.measure import run_child
from benchmarks.phases import extract_phase, floor_phase, print_figures
from benchmarks.report import Row, format_table, ratio_lines
from benchmarks.target import Target, sandbox_target
from benchmarks.whole_run import WHOLE_RUN_CONCURRENCY, measure_whole_run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=20.0, help="sandbox's mean latency")
    parser.add_argument("--concurrency", type=int, default=WHOLE_RUN_CONCURRENCY)
    parser.add_argument("--badges", type=int, default=80)
    parser.add_argument("--scale", type=float, default=4.0, help="customers multiplier")
    parser.add_argument("--transport", choices=sorted(CLIENT_OF_TRANSPORT), default="aiohttp")
    parser.add_argument("--skip-whole-run", action="store_true")
    parser.add_argument(
        "--floors",
        nargs="+",
        choices=CLIENTS,
        default=list(CLIENTS),
        help="floor clients to measure (httpx's own transport is slow at large sizes)",
    )
    parser.add_argument(
        "--profile", type=Path, default=None, help="also profile one 1x extraction into this file"
    )
    # Internal: what a measured child runs.
    parser.add_argument("--phase", choices=["extract", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--raw-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--client", choices=CLIENTS, help=argparse.SUPPRESS)
    return parser


def _phase_argv(args: argparse.Namespace, phase: str, raw_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        str(Path(__file__).resolve()),
        "--phase",
        phase,
        "--raw-dir",
        str(raw_dir),
        "--concurrency",
        str(args.concurrency),
        "--transport",
        args.transport,
        *extra,
    ]


def measure_extraction(
    args: argparse.Namespace, target: Target, raw_dir: Path, label: str, *extra: str
) -> Row:
    child = run_child(_phase_argv(args, "extract", raw_dir, *extra), target.child_env(), Path.cwd())
    return Row.from_figures(label, child.figures(), child.peak_rss_mib)


def measure_floor(args: argparse.Namespace, target: Target, raw_dir: Path, client: str) -> Row:
    argv = _phase_argv(args, "floor", raw_dir, "--client", client)
    child = run_child(argv, target.child_env(), Path.cwd())
    same = " (pipeline's)" if client == CLIENT_OF_TRANSPORT[args.transport] else ""
    return Row.from_figures(f"floor {client}{same}", child.figures(), child.peak_rss_mib)


def print_profile(path: Path, lines: int = 30) -> None:
    print(f"\nprofile of one 1x extraction ({path}), by own time:")
    pstats.Stats(str(path), stream=sys.stdout).sort_stats("tottime").print_stats(lines)


def run_benchmark(args: argparse.Namespace) -> None:
    rows: list[Row] = []
    notes: list[str] = []
    whole_run: Row | None = None
    with tempfile.TemporaryDirectory(prefix="badges-bench-") as tmp:
        workdir = Path(tmp)
        scaled_customers = round(args.customers * args.scale)
        with sandbox_target(args.customers, args.badges, args.latency_ms, workdir) as target:
            warm_up = measure_extraction(args, target, workdir / "warm-up", "extraction (warm-up)")
            shutil.rmtree(workdir / "warm-up")
            extraction = measure_extraction(args, target, workdir / "raw", "extraction 1x")
            floors = {c: measure_floor(args, target, workdir / "raw", c) for c in args.floors}
            rows += [warm_up, extraction, *floors.values()]
            if not args.skip_whole_run:
                measured_run = measure_whole_run(target, workdir)
                whole_run = measured_run.row
                rows.append(whole_run)
                notes += measured_run.notes(args.concurrency)
            if args.profile:
                profile = ("--profile", str(args.profile.resolve()))
                measure_extraction(args, target, workdir / "profiled", "profiled", *profile)
        with sandbox_target(scaled_customers, args.badges, args.latency_ms, workdir) as target:
            label = f"extraction {args.scale:g}x ({scaled_customers:,} customers, cold sandbox)"
            scaled = measure_extraction(args, target, workdir / "raw-scaled", label)
            rows.append(scaled)
    print(
        f"{args.customers:,} customers, {args.badges} badges, latency {args.latency_ms:g} ms, "
        f"concurrency {args.concurrency}, transport {args.transport}"
    )
    print(format_table(rows))
    for note in notes:
        print(note)
    if args.profile:
        print_profile(args.profile)
    floor = floors[CLIENT_OF_TRANSPORT[args.transport]]
    for line in ratio_lines(extraction, floor, scaled, args.scale, whole_run):
        print(line)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.phase == "extract":
        print_figures(extract_phase(args.raw_dir, args.concurrency, args.transport, args.profile))
    elif args.phase == "floor":
        print_figures(floor_phase(args.raw_dir, args.client, args.concurrency))
    else:
        run_benchmark(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
