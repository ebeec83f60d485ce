"""`badges run` as a user runs it: a real process, real exit codes, readable output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.e2e.conftest import Pipeline, today
from tests.e2e.stopping import assert_stopped_in_our_words, last_line

CAPILLARY_VARIABLES = [v for v in os.environ if v.startswith(("CAPILLARY_", "BADGES_"))]


CLI = [sys.executable, "-m", "pipelines.cli"]


def cli_environment(tmp_path: Path, **env: str) -> dict[str, str]:
    """The environment of a `badges` process with its data and Dagster home under tmp_path."""
    environment = {k: v for k, v in os.environ.items() if k not in CAPILLARY_VARIABLES}
    environment.update(
        BADGES_DATA_DIR=str(tmp_path / "data"), DAGSTER_HOME=str(tmp_path / "dagster"), **env
    )
    (tmp_path / "dagster").mkdir(exist_ok=True)
    (tmp_path / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return environment


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        env=cli_environment(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_wrong_password_fails_clearly_without_traceback_or_secret(tmp_path, pipeline: Pipeline):
    wrong = "not-the-password-8f3a"
    done = run_cli(
        tmp_path,
        "run",
        CAPILLARY_BASE_URL=pipeline.server.base_url,
        CAPILLARY_USERNAME=pipeline.credentials.username,
        CAPILLARY_PASSWORD=wrong,
        CAPILLARY_CUSTOMERS=str(pipeline.customers_csv),
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "NOT published" in output
    assert last_line(done).startswith("  raw_api_responses: authentication failed"), output
    message = last_line(done).removeprefix("  raw_api_responses: ")
    assert_stopped_in_our_words(done, tmp_path / "dagster", "raw_api_responses", message)
    assert wrong not in output
    assert not (tmp_path / "data" / "warehouse.duckdb").exists()


def test_a_bad_customers_file_stops_the_night_naming_its_line(tmp_path, pipeline: Pipeline):
    customers = tmp_path / "customers.csv"
    customers.write_text("customer_id,identifier_type\n1001,id\n1002,phone\n")
    done = run_cli(
        tmp_path,
        "run",
        CAPILLARY_BASE_URL=pipeline.server.base_url,
        CAPILLARY_USERNAME=pipeline.credentials.username,
        CAPILLARY_PASSWORD=pipeline.credentials.password,
        CAPILLARY_CUSTOMERS=str(customers),
    )

    message = (
        f"{customers}:3: unknown identifier_type 'phone' (expected one of id, email, mobile, "
        "externalId, cardNumber)"
    )
    assert_stopped_in_our_words(done, tmp_path / "dagster", "raw_api_responses", message)
    assert pipeline.server.stats.total_requests == 0


def test_default_run_syncs_the_embedded_sandbox(tmp_path):
    done = run_cli(tmp_path, "run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"snapshot {today()} published" in done.stdout
    assert "customer_badge_detail" in done.stdout  # calls per endpoint are summarized
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    assert str(warehouse) in done.stdout
    with duckdb.connect(str(warehouse), read_only=True) as con:
        customers = con.execute("SELECT count(DISTINCT customer_id) FROM customer_badges")
        assert customers.fetchone()[0] > 100
        assert con.execute("SELECT count(*) FROM analytics.badge_funnel").fetchone()[0] > 0
