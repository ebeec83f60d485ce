"""`badges status` after a real night: 0 when fresh and the last nightly run succeeded, 1
when the warehouse is stale or the last run failed, and every column of main.snapshot_info shown."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from pipelines.lake import Lake
from pipelines.ops.nightly import DATA_DIR_TAG
from tests.ops.conftest import Api, today
from tests.ops.processes import free_port, instance_yaml, prepare_home, run_badges
from tests.tmpfs import small_disk


def copy_night(template: Path, target: Path, data: Path | None = None) -> tuple[Lake, Path]:
    """The data directory and Dagster instance of the good night, in `target`: the runs
    moved with their data directory (to `data`, when given) carry its new path."""
    data = data or target / "data"
    shutil.copytree(template / "data", data)
    shutil.copytree(template / "home", target / "home")
    (target / "home" / "dagster.yaml").write_text(instance_yaml(target / "home"))
    with DagsterInstance.from_config(str(target / "home")) as instance:
        for run in instance.get_runs():
            instance.add_run_tags(run.run_id, {DATA_DIR_TAG: str(data.resolve())})
    return Lake(data), target / "home"


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
    assert lines[-1].endswith("old (limit 26 h), the last nightly run succeeded")


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
        lake, home = copy_night(good_night, tmp_path / "copy", disk / "data")

        done = status(api, lake, home)

    assert done.returncode == 1, done.stdout + done.stderr
    assert f"nightly_snapshot {today()}: SUCCESS" in done.stdout  # the run was fine
    assert f" MiB free in {lake.root}; a night needs " in done.stdout
    assert done.stdout.splitlines()[-1] == (
        "SHORT: the next night needs more disk space than is free"
    )


def runs_recorded(home: Path) -> int:
    with DagsterInstance.from_config(str(home)) as instance:
        return instance.get_runs_count()


def test_status_judges_its_own_nightly_attempts_and_warns_of_failed_rebuilds(
    tmp_path: Path, api: Api, good_night: Path
):
    lake, home = copy_night(good_night, tmp_path)
    environment = api.environment(lake.root, DAGSTER_HOME=str(home))
    api_down = f"http://127.0.0.1:{free_port()}"
    past = today() - dt.timedelta(days=5)
    recorded = runs_recorded(home)

    refused = run_badges("replay", "--date", past.isoformat(), environment=environment)

    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr == (
        f"badges replay: replaying the night of {past} into {lake.root}\n"
        f"badges replay: error: no raw archive for {past}: the Badges API serves only current "
        "state, so a past snapshot can only be rebuilt from its archive, never fetched again "
        f"(the archived night is {today()})\n"
    )
    assert runs_recorded(home) == recorded  # refused before a run: nothing turns red

    shutil.copytree(lake.raw_dir(today()), lake.raw_dir(past))
    damaged = lake.raw_files(past)[0]
    damaged.write_bytes(damaged.read_bytes()[:100])
    rebuild = run_badges("replay", "--date", past.isoformat(), environment=environment)
    assert rebuild.returncode == 1, rebuild.stdout + rebuild.stderr
    elsewhere = api.environment(tmp_path / "other", DAGSTER_HOME=str(home))
    other = run_badges("run", environment={**elsewhere, "CAPILLARY_BASE_URL": api_down})
    assert other.returncode == 1, other.stdout + other.stderr

    done = status(api, lake, home)

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"last run    nightly_snapshot {today()}: SUCCESS" in done.stdout
    warning = next(line for line in done.stdout.splitlines() if line.startswith("warning "))
    assert warning.startswith(f"warning     the rebuild of {past} failed (run "), warning
    assert f"raw_api_responses: {damaged} cannot be read (" in warning
    assert "FAILED" not in done.stdout and "unreachable" not in done.stdout  # not ours

    failed = run_badges("run", environment={**environment, "CAPILLARY_BASE_URL": api_down})
    assert failed.returncode == 1, failed.stdout + failed.stderr

    done = status(api, lake, home)

    assert done.returncode == 1, done.stdout + done.stderr
    assert f"last run    nightly_snapshot {today()}: FAILURE" in done.stdout
    assert f"  reason    raw_api_responses: API unreachable: cannot connect to {api_down}" in (
        done.stdout
    )
    assert done.stdout.splitlines()[-1] == "FAILED: the last nightly run failed"
    assert "Traceback" not in done.stdout + done.stderr
