"""dbt in this process: a steady project parses nothing, a build parses nothing, reports each
model and test as dbt finishes it, and leaves the night's file closed."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.lake import Lake
from pipelines.lake.tables import TABLES
from pipelines.warehouse import dbt_runner
from pipelines.warehouse.dbt_project import model_names
from pipelines.warehouse.loader import load_snapshot, staging_path
from tests.warehouse.conftest import write_table

DAY = dt.date(2025, 3, 10)
PREPARE = (
    "import json; from pipelines.warehouse import dbt_runner; p = dbt_runner.prepare(); "
    "print(json.dumps({'parsed': p.parsed_paths, 'fingerprint': p.fingerprint}))"
)


def prepare_in_a_new_process() -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PREPARE], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_steady_project_is_parsed_by_nobody_the_second_time():
    first = prepare_in_a_new_process()
    second = prepare_in_a_new_process()
    assert second == {"parsed": 0, "fingerprint": first["fingerprint"]}
    perf = json.loads((dbt_runner.night_target() / "perf_info.json").read_text())
    assert perf["parsed_path_count"] == 0
    assert perf["is_partial_parse_enabled"] is True


@pytest.fixture(scope="module")
def night(tmp_path_factory) -> Path:
    lake = Lake(tmp_path_factory.mktemp("runner") / "data")
    for name in TABLES:
        write_table(lake, name, DAY, [])
    load_snapshot(lake, DAY)
    return staging_path(lake, DAY)


def test_a_build_reports_every_model_and_test_and_closes_the_file(night: Path, tmp_path):
    said: list[dbt_runner.NodeResult] = []
    build = dbt_runner.build(night, DAY, tmp_path / "target", on_result=said.append)
    assert build.success and build.error is None
    assert said == build.results
    models = sorted(r.name for r in said if r.kind == "model")
    assert models == model_names()
    tests = [r for r in said if r.kind == "test"]
    assert len(tests) >= len(models) and {r.status for r in tests} == {"pass"}
    assert [r.index for r in said] == list(range(1, len(said) + 1))
    assert [(r.total, r.seconds >= 0) for r in said] == [(len(said), True)] * len(said)
    assert said[0].line().startswith(f"dbt 1/{len(said)} ")
    assert 0 < build.sql_seconds <= build.seconds
    # dbt-duckdb keeps its instance open; the build closed it: another configuration opens.
    with duckdb.connect(str(night), read_only=True) as con:
        built = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'analytics'"
        ).fetchall()
    assert sorted(name for (name,) in built) == model_names()


def test_a_night_of_another_date_fails_its_date_test_without_parsing(night: Path, tmp_path):
    # The night's date reaches dbt at build time (no parse); a file of another night fails.
    before = dbt_runner.prepare()
    build = dbt_runner.build(night, DAY + dt.timedelta(days=1), tmp_path / "target")
    assert dbt_runner.prepare() is before
    assert not build.success
    failed = {r.name for r in build.results if r.status == "fail"}
    assert failed and all(name.startswith("source_is_the_night_") for name in failed)
