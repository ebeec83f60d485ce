"""A run killed with SIGKILL mid-way leaves the published warehouse as it was, and the next
run succeeds without any manual cleanup. A damaged lake partition or night record stops the
night with a message naming the file and what rebuilds it, and that advice works."""

from __future__ import annotations

import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.lake import Lake
from pipelines.lake.failpoints import KILL_AT_VARIABLE
from pipelines.lake.nightrecord import POPULATION_FILE
from pipelines.lake.partitions import TEMP_PREFIX
from pipelines.lake.tables import CUSTOMER_BADGES
from pipelines.sandbox import generate_org
from pipelines.warehouse.loader import staging_path
from tests.e2e.conftest import TODAY, Pipeline, start_pipeline
from tests.e2e.test_cli import run_cli
from tests.e2e.test_live_readers import add_one_earn, api_environment, published_answer


def temp_partitions(lake: Lake) -> list[Path]:
    return sorted(lake.lake_dir.glob(f"*/{TEMP_PREFIX}*"))


def lake_rows(lake: Lake, table: str) -> int:
    return pq.read_table(lake.table_dir(table, TODAY)).num_rows


@pytest.fixture(scope="module")
def crash_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    org = generate_org(customers=30, badges=15, seed=23, as_of=TODAY)
    yield from start_pipeline(tmp_path_factory.mktemp("crash-sandbox"), org)


@pytest.fixture(scope="module")
def published_template(
    tmp_path_factory: pytest.TempPathFactory, crash_pipeline: Pipeline
) -> tuple[Path, dict]:
    """A data directory after one good run, and what its warehouse answers."""
    workdir = tmp_path_factory.mktemp("crash-template")
    done = run_cli(workdir, "run", **api_environment(crash_pipeline))
    assert done.returncode == 0, done.stdout + done.stderr
    data_dir = workdir / "data"
    return data_dir, published_answer(Lake(data_dir).warehouse_path)


@pytest.mark.parametrize("kill_at", ["normalize", "load", "publish"])
def test_killed_run_keeps_the_old_warehouse_and_the_next_run_succeeds(
    tmp_path: Path, crash_pipeline: Pipeline, published_template: tuple[Path, dict], kill_at: str
):
    template_dir, old = published_template
    shutil.copytree(template_dir, tmp_path / "data")
    lake = Lake(tmp_path / "data")
    environment = api_environment(crash_pipeline)
    add_one_earn(crash_pipeline)  # the killed run would have published one more earn

    killed = run_cli(tmp_path, "run", **environment, **{KILL_AT_VARIABLE: kill_at})

    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert published_answer(lake.warehouse_path) == old
    if kill_at == "normalize":
        assert temp_partitions(lake)  # killed with the new Parquet written but not swapped in
        assert lake_rows(lake, "badge_earns") == old["counts"]["badge_earns"]
    else:
        assert staging_path(lake, TODAY).exists()  # killed with the staging file half done

    recovered = run_cli(tmp_path, "run", **environment)

    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    new = published_answer(lake.warehouse_path)
    assert new["counts"] == {**crash_pipeline.org.expected_row_counts(), "extract_errors": 0}
    assert new["counts"]["badge_earns"] > old["counts"]["badge_earns"]
    assert new["info"] != old["info"]
    assert lake_rows(lake, "badge_earns") == new["counts"]["badge_earns"]
    assert temp_partitions(lake) == []
    assert not staging_path(lake, TODAY).exists()


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def failed_night(tmp_path: Path, pipeline: Pipeline, damaged: Path) -> str:
    """Runs the night over a lake with `damaged` truncated; returns what it printed."""
    truncate(damaged)
    refused = run_cli(tmp_path, "run", **api_environment(pipeline))
    output = refused.stdout + refused.stderr
    assert refused.returncode == 1, output
    assert f"snapshot {TODAY} NOT published" in output
    assert "Traceback" not in output
    return output


def test_a_damaged_lake_partition_names_the_file_and_the_replay_that_rebuilds_it(
    tmp_path: Path, crash_pipeline: Pipeline, published_template: tuple[Path, dict]
):
    shutil.copytree(published_template[0], tmp_path / "data")
    lake = Lake(tmp_path / "data")
    [part] = lake.table_files(CUSTOMER_BADGES.name, TODAY)

    output = failed_night(tmp_path, crash_pipeline, part)

    assert f"{part} cannot be read (Invalid Input Error: No magic bytes found" in output, output
    assert f"rebuild the partition from its raw archive with `badges replay --date {TODAY}`" in (
        output
    )
    replayed = run_cli(tmp_path, "replay", "--date", TODAY.isoformat())
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    again = run_cli(tmp_path, "run", **api_environment(crash_pipeline))
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_damaged_night_record_names_the_file_and_how_to_plan_without_it(
    tmp_path: Path, crash_pipeline: Pipeline, published_template: tuple[Path, dict]
):
    shutil.copytree(published_template[0], tmp_path / "data")
    lake = Lake(tmp_path / "data")
    archive = lake.raw_dir(TODAY)
    record = archive / POPULATION_FILE

    output = failed_night(tmp_path, crash_pipeline, record)

    assert f"{record} cannot be read (" in output
    assert f"it is the night record of {TODAY}" in output
    assert f"rename {archive} to {archive.name}.damaged and run again" in output
    archive.rename(archive.with_name(f"{archive.name}.damaged"))
    again = run_cli(tmp_path, "run", **api_environment(crash_pipeline))
    assert again.returncode == 0, again.stdout + again.stderr
    assert (archive / POPULATION_FILE).exists()  # the night archived itself anew
