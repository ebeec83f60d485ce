"""Bad input to `badges` is one clear line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from tests.ops.conftest import today
from tests.ops.processes import run_badges

# "{today}", "{tomorrow}" and "{three_days_ago}" are filled in when the test runs: no
# date is fixed at import.


NO_ARCHIVE = (
    "no raw archive for {date}: the Badges API serves only current state, so a past "
    "snapshot can only be rebuilt from its archive, never fetched again (no night is "
    "archived yet)"
)
API = {"CAPILLARY_BASE_URL": "https://eu.api.capillarytech.com"}


@pytest.mark.parametrize(
    ("args", "variables", "message"),
    [
        (
            ["run", "--date", "2030-01-01"],
            {},
            "badges run: error: argument --date: 2030-01-01 is in the future (today is {today}",
        ),
        (
            ["run", "--date", "{tomorrow}"],
            {},
            "badges run: error: argument --date: {tomorrow} is in the future",
        ),
        (
            ["replay", "--date", "2025-12-31"],
            {},
            "badges replay: error: " + NO_ARCHIVE.format(date="2025-12-31"),
        ),
        (
            ["replay", "--date", "{today}"],
            {},
            "badges replay: error: " + NO_ARCHIVE.format(date="{today}"),
        ),
        (
            ["run", "--date", "{three_days_ago}"],
            {},
            "badges run: error: " + NO_ARCHIVE.format(date="{three_days_ago}"),
        ),
        (
            ["run"],
            {**API, "CAPILLARY_USERNAME": "ops", "CAPILLARY_PASWORD": "x"},
            "badges run: error: CAPILLARY_PASWORD is not a variable badges reads: did you "
            "mean CAPILLARY_PASSWORD?",
        ),
        (
            ["run"],
            {**API, "CAPILLARY_CLIENT_KEY": "k"},
            "badges run: error: no API credentials: set CAPILLARY_USERNAME and "
            "CAPILLARY_PASSWORD (Basic) or CAPILLARY_CLIENT_KEY and CAPILLARY_CLIENT_SECRET "
            "(OAuth)",
        ),
        (
            ["run"],
            {**API, "CAPILLARY_USERNAME": "ops", "CAPILLARY_PASSWORD": "x"},
            "badges run: error: CAPILLARY_CUSTOMERS is not set: with a real API "
            "(CAPILLARY_BASE_URL) the run needs the customers file to extract",
        ),
        (
            ["run", "--date", "2026-02-30"],
            {},
            "badges run: error: argument --date: not a date (YYYY-MM-DD): '2026-02-30'",
        ),
        (["frobnicate"], {}, "badges: error: argument command: invalid choice: 'frobnicate'"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    tmp_path: Path, args: list[str], variables: dict[str, str], message: str
):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CAPILLARY_")}
    environment |= {"BADGES_DATA_DIR": str(tmp_path / "data"), **variables}
    environment["DAGSTER_HOME"] = str(tmp_path)
    days = {
        "today": today(),
        "tomorrow": today() + dt.timedelta(days=1),
        "three_days_ago": today() - dt.timedelta(days=3),
    }
    args = [arg.format(**days) for arg in args]
    message = message.format(**days)

    done = run_badges(*args, environment=environment)

    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert done.stderr.endswith("\n"), done.stderr
    # A night's first line says what was asked, at once; the refusal is the one line after.
    if args and args[0] in ("run", "replay") and len(lines) == 2:
        command = args[0]
        assert lines[0].startswith(f"badges {command}: "), done.stderr
        assert " the night of " in lines[0], done.stderr
        lines = lines[1:]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(message), done.stderr
    assert not (tmp_path / "data").exists()  # nothing ran
    assert not (tmp_path / "storage").exists()  # no run was recorded
