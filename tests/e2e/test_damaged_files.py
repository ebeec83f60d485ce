"""A damaged lake partition or night record stops the night with a message naming the file
and what rebuilds it, and following that advice lets the next night publish."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.lake import Lake
from pipelines.lake.nightrecord import POPULATION_FILE
from pipelines.lake.tables import CUSTOMER_BADGES
from pipelines.sandbox import generate_org
from tests.e2e.conftest import TODAY, Pipeline, start_pipeline
from tests.e2e.test_cli import run_cli
from tests.e2e.test_live_readers import api_environment


@pytest.fixture(scope="module")
def damage_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    org = generate_org(customers=30, badges=15, seed=29, as_of=TODAY)
    yield from start_pipeline(tmp_path_factory.mktemp("damage-sandbox"), org)


@pytest.fixture(scope="module")
def published_night(tmp_path_factory: pytest.TempPathFactory, damage_pipeline: Pipeline) -> Path:
    """A data directory after one good night."""
    workdir = tmp_path_factory.mktemp("damage-template")
    done = run_cli(workdir, "run", **api_environment(damage_pipeline))
    assert done.returncode == 0, done.stdout + done.stderr
    return workdir / "data"


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
    tmp_path: Path, damage_pipeline: Pipeline, published_night: Path
):
    shutil.copytree(published_night, tmp_path / "data")
    lake = Lake(tmp_path / "data")
    [part] = lake.table_files(CUSTOMER_BADGES.name, TODAY)

    output = failed_night(tmp_path, damage_pipeline, part)

    assert f"{part} cannot be read (Invalid Input Error: No magic bytes found" in output, output
    assert f"rebuild the partition from its raw archive with `badges replay --date {TODAY}`" in (
        output
    )
    replayed = run_cli(tmp_path, "replay", "--date", TODAY.isoformat())
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    again = run_cli(tmp_path, "run", **api_environment(damage_pipeline))
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_damaged_night_record_names_the_file_and_how_to_plan_without_it(
    tmp_path: Path, damage_pipeline: Pipeline, published_night: Path
):
    shutil.copytree(published_night, tmp_path / "data")
    lake = Lake(tmp_path / "data")
    archive = lake.raw_dir(TODAY)
    record = archive / POPULATION_FILE

    output = failed_night(tmp_path, damage_pipeline, record)

    assert f"{record} cannot be read (" in output
    assert f"it is the night record of {TODAY}" in output
    assert f"rename {archive} to {archive.name}.damaged and run again" in output
    archive.rename(archive.with_name(f"{archive.name}.damaged"))
    again = run_cli(tmp_path, "run", **api_environment(damage_pipeline))
    assert again.returncode == 0, again.stdout + again.stderr
    assert (archive / POPULATION_FILE).exists()  # the night archived itself anew
