"""An analyst's read-only connection stays open and querying while `badges run` publishes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.lake.tables import TABLES
from pipelines.sandbox import SandboxApiError, generate_org
from tests.e2e.conftest import Pipeline, start_pipeline, today
from tests.e2e.test_cli import run_cli

READER_TIMEOUT_SECONDS = 120
# Loops on one read-only connection until the stop file appears, then queries once more
# (so at least one answer comes after the publish) and exits. One JSON line per answer.
READER = """
import json, pathlib, sys, time
import duckdb

database, stop_file, tables = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3].split(",")
counts_sql = " UNION ALL ".join(
    f"SELECT '{t}', count(*) FROM main.{t}" for t in tables
)
con = duckdb.connect(database, read_only=True)

def answer():
    counts = dict(con.execute(counts_sql).fetchall())
    info = con.execute(
        "SELECT CAST(snapshot_date AS VARCHAR), CAST(loaded_at AS VARCHAR) FROM main.snapshot_info"
    ).fetchall()
    earns = con.execute("SELECT sum(earns) FROM analytics.earns_daily").fetchone()[0]
    print(json.dumps({"counts": counts, "info": info, "model_earns": earns}), flush=True)

for _ in range(100_000):
    stopping = stop_file.exists()
    answer()
    if stopping:
        break
    time.sleep(0.01)
con.close()
"""


def api_environment(pipeline: Pipeline) -> dict[str, str]:
    return {
        "CAPILLARY_BASE_URL": pipeline.server.base_url,
        "CAPILLARY_USERNAME": pipeline.credentials.username,
        "CAPILLARY_PASSWORD": pipeline.credentials.password,
        "CAPILLARY_CUSTOMERS": str(pipeline.customers_csv),
    }


def add_one_earn(pipeline: Pipeline) -> None:
    """Adds an earn to the first listed pair whose constraints allow one more."""
    for customer_id, badge_id in sorted(pipeline.org.listed_pairs()):
        try:
            pipeline.org.add_earn(customer_id, badge_id)
        except SandboxApiError:
            continue
        return
    raise AssertionError("no pair accepts another earn")


def published_answer(warehouse: Path) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        counts = {t: con.execute(f"SELECT count(*) FROM main.{t}").fetchone()[0] for t in TABLES}
        info = con.execute(
            "SELECT CAST(snapshot_date AS VARCHAR), CAST(loaded_at AS VARCHAR) "
            "FROM main.snapshot_info"
        ).fetchall()
        earns = con.execute("SELECT sum(earns) FROM analytics.earns_daily").fetchone()[0]
    return {"counts": counts, "info": [list(row) for row in info], "model_earns": earns}


@pytest.fixture
def reader_pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    org = generate_org(customers=30, badges=15, seed=5, as_of=today())
    yield from start_pipeline(tmp_path, org)


def test_open_reader_never_errors_while_a_run_publishes(tmp_path: Path, reader_pipeline: Pipeline):
    environment = api_environment(reader_pipeline)
    first = run_cli(tmp_path, "run", **environment)
    assert first.returncode == 0, first.stdout + first.stderr
    warehouse = reader_pipeline.lake.warehouse_path
    old = published_answer(warehouse)

    add_one_earn(reader_pipeline)
    stop_file = tmp_path / "stop-reader"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(warehouse), str(stop_file), ",".join(TABLES)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None
        first_answer = reader.stdout.readline()  # the reader is connected and querying
        second = run_cli(tmp_path, "run", **environment)
        stop_file.touch()
        rest, errors = reader.communicate(timeout=READER_TIMEOUT_SECONDS)
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()

    assert second.returncode == 0, second.stdout + second.stderr
    assert f"snapshot {today()} published" in second.stdout
    assert reader.returncode == 0, errors
    assert errors.strip() == ""
    answers = [json.loads(line) for line in (first_answer + rest).splitlines()]
    assert len(answers) >= 2, len(answers)
    assert all(answer == old for answer in answers)

    new = published_answer(warehouse)
    assert new["counts"] == {
        **reader_pipeline.org.expected_row_counts(),
        "extract_errors": 0,
    }
    assert new["counts"]["badge_earns"] == old["counts"]["badge_earns"] + 1
    assert new["model_earns"] == old["model_earns"] + 1
    assert new["info"] != old["info"]
