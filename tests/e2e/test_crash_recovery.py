"""A run killed with SIGKILL mid-way leaves the published warehouse as it was, and the next
run succeeds without any manual cleanup. A damaged lake partition is rebuilt from its raw
archive with a warning naming it; what nothing rebuilds (a night record, a partition
without its archive) stops the night with a message naming the file and the remedy, and
that advice works."""

from __future__ import annotations

import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.lake import Lake
from pipelines.lake.damage import DamagedFileError
from pipelines.lake.failpoints import KILL_AT_VARIABLE
from pipelines.lake.nightrecord import POPULATION_FILE
from pipelines.lake.partition_swap import TEMP_PREFIX
from pipelines.lake.tables import CUSTOMER_BADGES, TABLES
from pipelines.night.heal import heal_night, unreadable_partitions
from pipelines.normalize.streaming import PARENT_CHECK_SECONDS
from pipelines.sandbox import generate_org
from pipelines.warehouse.loader import staging_path
from tests.e2e.conftest import Pipeline, start_pipeline, today
from tests.e2e.stopping import assert_stopped_in_our_words, last_line
from tests.e2e.test_cli import run_cli
from tests.e2e.test_live_readers import add_one_earn, api_environment, published_answer


def temp_partitions(lake: Lake) -> list[Path]:
    return sorted(lake.lake_dir.glob(f"*/{TEMP_PREFIX}*"))


def orphan_cleaned_up(lake: Lake, seconds: float = 4 * PARENT_CHECK_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while temp_partitions(lake) and time.monotonic() < deadline:
        time.sleep(0.2)
    return temp_partitions(lake) == []


def lake_rows(lake: Lake, table: str) -> int:
    return pq.read_table(lake.table_dir(table, today())).num_rows


@pytest.fixture(scope="module")
def crash_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    org = generate_org(customers=30, badges=15, seed=23, as_of=today())
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
        # Killed with the new Parquet written but not swapped in: the lake keeps the old
        # rows, and the orphaned normalizer, once it sees its parent gone, discards them.
        assert lake_rows(lake, "badge_earns") == old["counts"]["badge_earns"]
        assert orphan_cleaned_up(lake)
    else:
        assert staging_path(lake, today()).exists()  # killed with the staging file half done

    recovered = run_cli(tmp_path, "run", **environment)

    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    new = published_answer(lake.warehouse_path)
    assert new["counts"] == {**crash_pipeline.org.expected_row_counts(), "extract_errors": 0}
    assert new["counts"]["badge_earns"] > old["counts"]["badge_earns"]
    assert new["info"] != old["info"]
    assert lake_rows(lake, "badge_earns") == new["counts"]["badge_earns"]
    assert temp_partitions(lake) == []
    assert not staging_path(lake, today()).exists()


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def failed_night(tmp_path: Path, pipeline: Pipeline, damaged: Path) -> str:
    """Runs the night over a lake with `damaged` truncated; returns what it printed."""
    truncate(damaged)
    refused = run_cli(tmp_path, "run", **api_environment(pipeline))
    output = refused.stdout + refused.stderr
    assert f"snapshot {today()} NOT published" in output
    message = last_line(refused).removeprefix("  raw_api_responses: ")
    assert message.startswith(f"{damaged} cannot be read ("), output
    assert_stopped_in_our_words(refused, tmp_path / "dagster", "raw_api_responses", message)
    return output


def partition_rows(lake: Lake, table: str) -> list[dict]:
    return sorted(pq.read_table(lake.table_dir(table, today())).to_pylist(), key=repr)


def test_a_damaged_lake_partition_is_rebuilt_from_its_archive_and_the_night_goes_on(
    tmp_path: Path, crash_pipeline: Pipeline, published_template: tuple[Path, dict]
):
    shutil.copytree(published_template[0], tmp_path / "data")
    lake = Lake(tmp_path / "data")
    [part] = lake.table_files(CUSTOMER_BADGES.name, today())
    truncate(part)

    healed = run_cli(tmp_path, "run", **api_environment(crash_pipeline))

    output = healed.stdout + healed.stderr
    assert healed.returncode == 0, output
    warning = (
        f"{part} cannot be read (Parquet magic bytes not found in footer. Either the file is "
        "corrupted or this is not a parquet file): rebuilding the partitions of "
        f"{today()} from its raw archive {lake.raw_dir(today())}, as "
        f"`badges replay --date {today()}` does ("
    )
    assert f"warning: {warning}" in healed.stderr  # the log
    assert f"  warning: {warning}" in healed.stdout  # the night's summary
    # The night of the same day then fetched the sandbox again (which earlier tests of this
    # module may have changed): what it published is the sandbox's, read back whole.
    published = published_answer(lake.warehouse_path)
    assert published["counts"] == {**crash_pipeline.org.expected_row_counts(), "extract_errors": 0}
    rows = partition_rows(lake, CUSTOMER_BADGES.name)
    assert len(rows) == published["counts"][CUSTOMER_BADGES.name]


def test_a_damaged_partition_is_rebuilt_as_it_was(
    tmp_path: Path, published_template: tuple[Path, dict]
):
    shutil.copytree(published_template[0], tmp_path / "data")
    lake = Lake(tmp_path / "data")
    original = {table: partition_rows(lake, table) for table in TABLES}
    [part] = lake.table_files(CUSTOMER_BADGES.name, today())
    truncate(part)

    started = time.monotonic()
    [warning] = heal_night(lake, today())
    print(f"healed {part.name} of {today()} in {time.monotonic() - started:.2f} s")

    assert warning.startswith(f"{part} cannot be read (")
    assert unreadable_partitions(lake, today()) == []
    assert {table: partition_rows(lake, table) for table in TABLES} == original
    assert heal_night(lake, today()) == []  # whole again: nothing to do


def test_a_damaged_partition_without_its_archive_stops_the_night_with_its_remedy(
    tmp_path: Path, published_template: tuple[Path, dict]
):
    shutil.copytree(published_template[0], tmp_path / "data")
    lake = Lake(tmp_path / "data")
    [part] = lake.table_files(CUSTOMER_BADGES.name, today())
    truncate(part)
    shutil.rmtree(lake.raw_dir(today()))

    with pytest.raises(DamagedFileError) as raised:
        heal_night(lake, today())

    assert str(raised.value).startswith(f"{part} cannot be read (")
    assert f"its raw archive {lake.raw_dir(today())} is gone too" in str(raised.value)


def test_a_damaged_night_record_names_the_file_and_how_to_plan_without_it(
    tmp_path: Path, crash_pipeline: Pipeline, published_template: tuple[Path, dict]
):
    shutil.copytree(published_template[0], tmp_path / "data")
    lake = Lake(tmp_path / "data")
    archive = lake.raw_dir(today())
    record = archive / POPULATION_FILE

    output = failed_night(tmp_path, crash_pipeline, record)

    assert f"{record} cannot be read (" in output
    assert f"it is the night record of {today()}" in output
    assert f"rename {archive} to {archive.name}.damaged and run again" in output
    archive.rename(archive.with_name(f"{archive.name}.damaged"))
    again = run_cli(tmp_path, "run", **api_environment(crash_pipeline))
    assert again.returncode == 0, again.stdout + again.stderr
    assert (archive / POPULATION_FILE).exists()  # the night archived itself anew
