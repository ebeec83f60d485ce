"""`badges`: run the nightly job for a day, replay one from its archive, or serve the sandbox.

badges run [--date YYYY-MM-DD] [options]    the nightly snapshot, through Dagster
badges replay --date YYYY-MM-DD             rebuild a snapshot from its raw archive
badges plan [--date YYYY-MM-DD] [options]   tonight's calls and hours under the budgets
badges status                               the published snapshot, the last and next run
badges doctor                               check the configuration, one line per check
badges sandbox serve [...]                  the sandbox API, standalone

Bad input (an unknown command, a malformed date, a day outside the snapshots) is one line
on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class _Parser(argparse.ArgumentParser):
    """Reports bad input as one line on stderr, exit code 2, instead of the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _snapshot_date(value: str) -> dt.date:
    """A day a snapshot can be taken of: today (UTC) or before; whether a past day has the
    archive it is rebuilt from is asked before the run (`preflight`)."""
    day = _date(value)
    today = dt.datetime.now(dt.UTC).date()
    if day > today:
        raise argparse.ArgumentTypeError(
            f"{day} is in the future (today is {today}, UTC): a snapshot is taken on its own day"
        )
    return day


def _share(value: str) -> float:
    from pipelines.extract.gate import parse_share

    try:
        return parse_share(value, "share")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _rate_limit(value: str) -> str:
    from pipelines.client.rates import RateSpecError, parse_rate_limits

    try:
        parse_rate_limits(value, "--rate-limit")
    except RateSpecError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return value


def _positive(kind: type) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            number = kind(value)
        except ValueError:
            number = 0
        if number <= 0:
            raise argparse.ArgumentTypeError(f"must be a number above 0, got {value!r}")
        return number

    return parse


def _add_night_arguments(parser: argparse.ArgumentParser) -> None:
    """The options a night is planned with: `badges run` and `badges plan` share them."""
    parser.add_argument(
        "--date", type=_snapshot_date, default=None, help="snapshot day (UTC), default today"
    )
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="fetch every customer-badge detail again instead of reusing unchanged ones",
    )
    parser.add_argument(
        "--rate-limit",
        type=_rate_limit,
        help="the vendor's limits, e.g. 100/min (default: CAPILLARY_RATE_LIMIT)",
    )
    parser.add_argument(
        "--rotation-nights",
        type=_positive(int),
        help="fetch every customer's lists at least every N nights (default: the planner's)",
    )


def build_parser() -> argparse.ArgumentParser:
    from pipelines.sandbox.cli import add_serve_arguments

    parser = _Parser(prog="badges", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="materialize the nightly snapshot job for one day")
    _add_night_arguments(run)
    run.add_argument(
        "--max-failed-share",
        type=_share,
        help="calls that may fail before the snapshot is refused, e.g. 0.005 or 0.5%% "
        "(default: BADGES_MAX_FAILED_SHARE or 0.5%%)",
    )
    run.add_argument(
        "--accept-drop",
        action="store_true",
        help="publish even when customers, badges, pairs or earns fell sharply",
    )
    run.add_argument(
        "--restart",
        action="store_true",
        help="discard the day's checkpoint (what a stopped attempt fetched) and start over",
    )
    replay = commands.add_parser(
        "replay", help="rebuild one day's snapshot from its raw archive, without calling the API"
    )
    replay.add_argument("--date", type=_snapshot_date, required=True, help="snapshot day (UTC)")
    plan = commands.add_parser(
        "plan", help="tonight's calls per API and their hours under the budgets, no API call"
    )
    _add_night_arguments(plan)
    plan.add_argument(
        "--night-hours",
        type=_positive(float),
        help="the window the night must fit (default: BADGES_NIGHT_HOURS or 6)",
    )
    commands.add_parser(
        "status",
        help="the published snapshot, the last run and the next; exit 1 when stale or failed",
    )
    commands.add_parser("doctor", help="check the configuration and credentials")
    sandbox = commands.add_parser("sandbox", help="the sandbox API")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    add_serve_arguments(sandbox_commands.add_parser("serve", help="serve the sandbox API"))
    return parser


def _plan(args: argparse.Namespace) -> int:
    from pipelines.cli.plan import show_plan

    return show_plan(
        args.date or dt.datetime.now(dt.UTC).date(),
        full_refresh=args.full_refresh,
        rotation_nights=args.rotation_nights,
        rate_limit=args.rate_limit,
        night_hours=args.night_hours,
    )


def _status(_: argparse.Namespace) -> int:
    from pipelines.ops.runs import print_status

    try:
        return print_status()
    except ValueError as error:  # a malformed setting, e.g. BADGES_STALE_AFTER_HOURS
        print(f"badges status: error: {error}", file=sys.stderr)
        return 2


def _doctor(_: argparse.Namespace) -> int:
    from pipelines.ops.doctor import main as doctor

    return doctor()


# Commands that run no night: they never wait for, nor refuse beside, a run in progress.
OPERATIONS: dict[str, Callable[[argparse.Namespace], int]] = {
    "plan": _plan,
    "status": _status,
    "doctor": _doctor,
}


def _refusal(replay: bool, snapshot_date: dt.date) -> str | None:
    """Why the night asked for cannot succeed (no archive to rebuild it from, a misspelled
    or missing credential), found before a run is recorded."""
    from pipelines.cli.preflight import refusal
    from pipelines.ops.resources import API_VARIABLES
    from pipelines.ops.settings import bucket_access, data_directory

    try:
        lake, access = data_directory(), bucket_access()
    except ValueError as error:
        return str(error)
    today = dt.datetime.now(dt.UTC).date()
    known = set(API_VARIABLES.values())
    return refusal(replay, snapshot_date, today, lake, access, os.environ, known)


def _run_in_progress() -> str | None:
    """Why this run must not start: another one is extracting (the queue can't stop us)."""
    from dagster import DagsterInstance

    from pipelines.ops.runs import extracting_runs

    with DagsterInstance.get() as instance:
        busy = extracting_runs(instance)
    if not busy:
        return None
    return (
        f"run {busy[0].run_id} of {busy[0].partition} is in progress; start again when it "
        "has ended (see badges status)"
    )


class _ProgressLine(logging.Handler):
    """Shows extraction progress: one line rewritten on a terminal, lines otherwise."""

    def emit(self, record: logging.LogRecord) -> None:
        stream = sys.stderr
        if stream.isatty():
            end = "\n" if getattr(record, "step", False) else ""
            stream.write("\r\033[K" + record.getMessage() + end)
        else:
            stream.write(record.getMessage() + "\n")
        stream.flush()


def _first_line(args: argparse.Namespace, snapshot_date: dt.date) -> None:
    """Says what the night is before Dagster is imported, which takes seconds."""
    data_dir = os.environ.get("BADGES_DATA_DIR") or "data"
    doing = "replaying" if args.command == "replay" else "running"
    print(
        f"badges {args.command}: {doing} the night of {snapshot_date} into {data_dir}",
        file=sys.stderr,
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    snapshot_date = getattr(args, "date", None) or dt.datetime.now(dt.UTC).date()
    if args.command in ("run", "replay"):
        _first_line(args, snapshot_date)
    if args.command == "sandbox":
        from pipelines.sandbox.cli import serve

        return serve(args)
    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT))
    from pipelines.ops.postgres_url import UnusablePostgresUrl, use_installed_driver

    try:
        use_installed_driver(os.environ)
    except UnusablePostgresUrl as error:
        print(f"badges {args.command}: error: {error}", file=sys.stderr)
        return 2
    if args.command in OPERATIONS:
        return OPERATIONS[args.command](args)
    if (refused := _refusal(args.command == "replay", snapshot_date)) is not None:
        print(f"badges {args.command}: error: {refused}", file=sys.stderr)
        return 2
    if (busy := _run_in_progress()) is not None:
        print(f"badges {args.command}: error: {busy}", file=sys.stderr)
        return 1
    progress = logging.getLogger("badges.progress")
    progress.addHandler(_ProgressLine())
    progress.setLevel(logging.INFO)
    progress.propagate = False
    from pipelines.cli.run import run_snapshot

    outcome = run_snapshot(
        snapshot_date,
        replay=args.command == "replay",
        full_refresh=getattr(args, "full_refresh", False),
        rate_limit=getattr(args, "rate_limit", None),
        rotation_nights=getattr(args, "rotation_nights", None),
        max_failed_share=getattr(args, "max_failed_share", None),
        accept_drop=getattr(args, "accept_drop", None) or None,
        restart=getattr(args, "restart", None) or None,
    )
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    print(outcome.describe())
    return 0 if outcome.succeeded else 1
