"""`badges status` after a real night: 0 when fresh and the last run succeeded, 1 when the
warehouse is stale or the last run failed, and every column of main.snapshot_info shown."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.lake import Lake
from tests.ops.conftest import Api, today
from tests.ops.processes import instance_yaml, prepare_home, run_badges
from tests.tmpfs import small_disk


def copy_night(template: Path, target: Path) -> tuple[Lake, Path]:
    """The data directory and Dagster instance of the good night, in `target`."""
    shutil.copytree(template / "data", target / "data")
    shutil.copytree(template / "home", target / "home")
    (target / "home" / "dagster.yaml").write_text(instance_yaml(target / "home"))
    return Lake(target / "data"), target / "home"


@pytest.fixture(scope="module")
def good_night(tmp_path_factory: pytest.TempPathFactory, api: Api) -> Path:
    root = tmp_path_factory.mktemp("good-night")
    home = prepare_home(root / "home")
    done = run_badges("run", environment=api.environment(root / "data", DAGSTER_HOME=str(home)))
    assert done.returncode == 0, done.stdout + done.stderr
    return root


def status(api: Api, lake: Lake, home: Path):
    return run_badges("status", environment=api.environment(lake.root, DAGSTER_HOME=str(home)))


def test_a_fresh_snapshot_after_a_good_run_is_ok(tmp_path: Path, api: Api, good_night: Path):
    lake, home = copy_night(good_night, tmp_path)

    done = status(api, lake, home)

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert f"published   snapshot {today()}" in done.stdout
    assert f"nightly_snapshot {today()}: SUCCESS" in done.stdout
    assert "next run    " in done.stdout and "02:00 UTC" in done.stdout
    disk = rf"disk        [\d,]+\.\d MiB free in {re.escape(str(lake.root))}; a night needs "
    assert any(re.match(disk, line) for line in lines), done.stdout
    assert f"from the snapshot of {today()})" in done.stdout
    with duckdb.connect(str(lake.warehouse_path), read_only=True) as con:
        columns = [row[0] for row in con.execute("DESCRIBE main.snapshot_info").fetchall()]
        badges = con.execute("SELECT badges_rows FROM main.snapshot_info").fetchone()[0]
    assert len(columns) > 5
    for column in columns:  # every column, whichever the loader writes
        assert any(line.split() and line.split()[0] == column for line in lines), column
    assert any(line.split() == ["badges_rows", f"{badges:,}"] for line in lines)
    assert lines[-1].startswith("OK: the published snapshot is ")
    assert lines[-1].endswith("old (limit 26 h), the last run succeeded")


def test_a_stale_snapshot_exits_non_zero(tmp_path: Path, api: Api, good_night: Path):
    lake, home = copy_night(good_night, tmp_path)
    loaded_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=30)
    with duckdb.connect(str(lake.warehouse_path)) as con:
        con.execute("UPDATE main.snapshot_info SET loaded_at = ?", [loaded_at])

    done = status(api, lake, home)

    assert done.returncode == 1, done.stdout + done.stderr
    assert f"nightly_snapshot {today()}: SUCCESS" in done.stdout  # the run was fine
    assert done.stdout.splitlines()[-1].startswith("STALE: the published snapshot is 30 h")
    assert "(limit 26 h)" in done.stdout


def test_a_disk_short_of_the_next_nights_need_exits_non_zero(
    tmp_path: Path, api: Api, good_night: Path
):
    data = good_night / "data"
    used = sum(f.stat().st_size for f in data.rglob("*") if f.is_file())
    with small_disk(tmp_path / "disk", size_mib=used // 2**20 + 3) as disk:
        shutil.copytree(data, disk / "data")
        _, home = copy_night(good_night, tmp_path / "copy")
        lake = Lake(disk / "data")

        done = status(api, lake, home)

    assert done.returncode == 1, done.stdout + done.stderr
    assert f"nightly_snapshot {today()}: SUCCESS" in done.stdout  # the run was fine
    assert f" MiB free in {lake.root}; a night needs " in done.stdout
    assert done.stdout.splitlines()[-1] == (
        "SHORT: the next night needs more disk space than is free"
    )


def test_a_failed_last_run_exits_non_zero_with_its_reason(
    tmp_path: Path, api: Api, good_night: Path
):
    lake, home = copy_night(good_night, tmp_path)
    past = today() - dt.timedelta(days=5)
    environment = api.environment(lake.root, DAGSTER_HOME=str(home))
    failed = run_badges("run", "--date", past.isoformat(), environment=environment)
    assert failed.returncode == 1

    done = status(api, lake, home)

    assert done.returncode == 1, done.stdout + done.stderr
    assert f"last run    nightly_snapshot {past}: FAILURE" in done.stdout
    assert f"  reason    raw_api_responses: no raw archive for {past}" in done.stdout
    assert done.stdout.splitlines()[-1] == "FAILED: the last run failed"
    assert "Traceback" not in done.stdout + done.stderr
