"""The warehouse build opens DuckDB with the memory limit, threads and spill directory it is
configured with, read back from real connections of the loader."""

import datetime as dt
from dataclasses import replace

import pytest

from pipelines.lake import Lake
from pipelines.lake.layout import usable_cores
from pipelines.ops.settings import MEMORY_LIMIT_VARIABLE, THREADS_VARIABLE, engine_limits
from pipelines.warehouse.loader import load_snapshot, open_staging

DAY = dt.date(2026, 12, 3)
BADGES = {"badges": [{"badge_id": "65f0c0ffee0000000000b001", "name": "Steps"}]}
SETTINGS_QUERY = (
    "SELECT current_setting('memory_limit'), current_setting('threads'), "
    "current_setting('temp_directory')"
)


def staging_settings(lake: Lake) -> tuple:
    with open_staging(lake, DAY) as con:
        return con.execute(SETTINGS_QUERY).fetchone()


def test_the_loader_opens_duckdb_with_the_configured_settings(
    lake: Lake, write_snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MEMORY_LIMIT_VARIABLE, "768MiB")
    monkeypatch.setenv(THREADS_VARIABLE, "1")
    write_snapshot(DAY, BADGES)
    lake = replace(lake, engine=engine_limits())  # the settings, loaded at the edge

    report = load_snapshot(lake, DAY)

    assert report.row_counts["badges"] == 1
    assert staging_settings(lake) == ("768.0 MiB", 1, str(lake.spill_dir))
    assert lake.spill_dir.parent == lake.staging_dir


def test_without_settings_the_build_takes_2gib_and_the_usable_cores(
    lake: Lake, write_snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MEMORY_LIMIT_VARIABLE, raising=False)
    monkeypatch.delenv(THREADS_VARIABLE, raising=False)
    write_snapshot(DAY, BADGES)
    load_snapshot(replace(lake, engine=engine_limits()), DAY)

    assert staging_settings(lake) == ("2.0 GiB", usable_cores(), str(lake.spill_dir))


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        (MEMORY_LIMIT_VARIABLE, "lots"),
        (MEMORY_LIMIT_VARIABLE, "80%"),
        (THREADS_VARIABLE, "0"),
        (THREADS_VARIABLE, "two"),
    ],
)
def test_a_malformed_setting_is_refused_naming_the_variable(
    lake: Lake, write_snapshot, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    write_snapshot(DAY, BADGES)

    with pytest.raises(ValueError, match=f"{variable} must be .*got '{value}'"):
        load_snapshot(replace(lake, engine=engine_limits()), DAY)
