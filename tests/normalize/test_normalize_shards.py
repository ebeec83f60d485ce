"""A sharded normalization writes the same rows, and reports the same figures, as one process."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from benchmarks.archive import ArchiveSpec, build_archive
from pipelines.lake import Lake
from pipelines.lake.raw import iter_records
from pipelines.lake.tables import TABLES
from pipelines.normalize.normalizer import normalize_snapshot
from pipelines.normalize.shards import badge_shards, normalize_archive, normalize_workers, shard_of
from pipelines.ops.settings import WORKERS_VARIABLE, engine_limits

SPEC = ArchiveSpec(customers=120, badges=20, part_customers=60)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sandbox archive whose first file is archived twice: every one of its keys repeats."""
    raw_dir = Lake(tmp_path_factory.mktemp("archive")).raw_dir(SPEC.snapshot_date)
    build_archive(SPEC, raw_dir, workers=1)
    first = sorted(raw_dir.glob("*.parquet"))[0]
    shutil.copyfile(first, raw_dir / "responses-999999.parquet")
    return raw_dir


def table_rows(lake: Lake, table: str) -> list[str]:
    files = lake.table_files(table, SPEC.snapshot_date)
    rows = [row for path in files for row in pq.read_table(path).to_pylist()]
    return sorted(repr(sorted(row.items())) for row in rows)


def test_two_shards_write_what_one_process_writes(archive: Path, tmp_path: Path) -> None:
    alone, sharded = Lake(tmp_path / "alone"), Lake(tmp_path / "sharded")

    expected = normalize_snapshot(archive, alone, SPEC.snapshot_date)
    report = normalize_archive(archive, sharded, SPEC.snapshot_date, workers=2)

    assert report.duplicates == expected.duplicates
    assert expected.duplicates["customer_badges"] > 0
    assert expected.duplicates["customer_badge_details"] > 0
    assert (report.records_read, report.rows, report.warnings) == (
        expected.records_read,
        expected.rows,
        expected.warnings,
    )
    assert expected.rows["badge_earns"] > 100
    for table in TABLES:
        assert table_rows(sharded, table) == table_rows(alone, table), table
    details = sharded.table_files("customer_badge_details", SPEC.snapshot_date)
    assert [path.name for path in details] == ["part-0.parquet", "part-1.parquet"]


def test_a_small_archive_is_normalized_in_one_process(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(WORKERS_VARIABLE, "4")
    assert normalize_workers(archive, engine_limits().normalize_workers) == 1


def test_a_malformed_worker_count_is_refused_naming_the_variable(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(WORKERS_VARIABLE, "many")
    with pytest.raises(ValueError, match=f"{WORKERS_VARIABLE} must be .*got 'many'"):
        normalize_workers(archive, engine_limits().normalize_workers)


def test_badges_are_dealt_to_the_shards_by_their_records(archive: Path) -> None:
    """Each badge goes whole to one shard, and the shards' records differ by no more than
    the largest badge's (a hash of a few badges can leave one shard most of the work)."""
    plan = badge_shards(archive, 3)
    records = list(iter_records(archive))
    per_badge = Counter(r.badge_id for r in records if r.badge_id is not None)
    assert set(plan) == set(per_badge) and set(plan.values()) == {0, 1, 2}
    loads = Counter(shard_of(r, 3, plan) for r in records)
    assert max(loads.values()) - min(loads.values()) <= max(per_badge.values())
    assert sum(loads.values()) == len(records)
