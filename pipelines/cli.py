"""`badges`: run the nightly job for a day, replay one from its archive, or serve the sandbox.

badges run [--date YYYY-MM-DD] [--full-refresh]   the nightly snapshot, through Dagster
badges replay --date YYYY-MM-DD                   rebuild a snapshot from its raw archive
badges sandbox serve [...]                        the sandbox API, standalone
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def build_parser() -> argparse.ArgumentParser:
    from pipelines.sandbox.cli import add_serve_arguments

    parser = argparse.ArgumentParser(prog="badges", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="materialize the nightly snapshot job for one day")
    run.add_argument("--date", type=_date, default=None, help="snapshot day (UTC), default today")
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="fetch every customer-badge detail again instead of reusing unchanged ones",
    )
    replay = commands.add_parser(
        "replay", help="rebuild one day's snapshot from its raw archive, without calling the API"
    )
    replay.add_argument("--date", type=_date, required=True, help="snapshot day (UTC)")
    sandbox = commands.add_parser("sandbox", help="the sandbox API")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    add_serve_arguments(sandbox_commands.add_parser("serve", help="serve the sandbox API"))
    return parser


class _ProgressLine(logging.Handler):
    """Shows extraction progress: one line rewritten on a terminal, lines otherwise."""

    def emit(self, record: logging.LogRecord) -> None:
        stream = sys.stderr
        if stream.isatty():
            stream.write("\r\033[K" + record.getMessage())
        else:
            stream.write(record.getMessage() + "\n")
        stream.flush()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "sandbox":
        from pipelines.sandbox.cli import serve

        return serve(args)
    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT))
    progress = logging.getLogger("badges.progress")
    progress.addHandler(_ProgressLine())
    progress.setLevel(logging.INFO)
    progress.propagate = False
    from pipelines.run import run_snapshot

    snapshot_date = args.date or dt.datetime.now(dt.UTC).date()
    outcome = run_snapshot(
        snapshot_date,
        replay=args.command == "replay",
        full_refresh=getattr(args, "full_refresh", False),
    )
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    print(outcome.describe())
    return 0 if outcome.published else 1


if __name__ == "__main__":
    sys.exit(main())
