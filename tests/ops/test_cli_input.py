"""Bad input to `badges` is one clear line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from tests.ops.conftest import today
from tests.ops.processes import run_badges

# "{today}" and "{tomorrow}" are filled in when the test runs: no date is fixed at import.


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["run", "--date", "2030-01-01"],
            "badges run: error: argument --date: 2030-01-01 is in the future (today is {today}",
        ),
        (
            ["run", "--date", "{tomorrow}"],
            "badges run: error: argument --date: {tomorrow} is in the future",
        ),
        (
            ["replay", "--date", "2025-12-31"],
            "badges replay: error: argument --date: 2025-12-31 is before the first snapshot "
            "day, 2026-01-01",
        ),
        (
            ["run", "--date", "2026-02-30"],
            "badges run: error: argument --date: not a date (YYYY-MM-DD): '2026-02-30'",
        ),
        (["frobnicate"], "badges: error: argument command: invalid choice: 'frobnicate'"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(tmp_path: Path, args: list[str], message: str):
    environment = {**os.environ, "BADGES_DATA_DIR": str(tmp_path / "data")}
    environment["DAGSTER_HOME"] = str(tmp_path)
    days = {"today": today(), "tomorrow": today() + dt.timedelta(days=1)}
    args = [arg.format(**days) for arg in args]
    message = message.format(**days)

    done = run_badges(*args, environment=environment)

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.endswith("\n"), done.stderr
    assert done.stderr.startswith(message), done.stderr
    assert not (tmp_path / "data").exists()  # nothing ran
