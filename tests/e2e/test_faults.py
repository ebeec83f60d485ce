"""Correct under every fault the network can produce: a faulty run loads what a clean run loads."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.lake.tables import TABLES
from pipelines.sandbox import Faults, generate_org
from tests.e2e.conftest import run_against, today

HOSTILE = Faults(
    fail_rate=0.10,
    reset_rate=0.02,
    truncate_rate=0.02,
    rate_limit="40/s",  # per API, per 1 s window, told to the client as 60/s
    drift=True,
    seed=5,
)


def _run(tmp_path: Path, faults: Faults | None, **api: object):
    return run_against(
        tmp_path, generate_org(customers=60, badges=25, seed=23, as_of=today()), faults, **api
    )


def _differences(clean: Path, faulty: Path, table: str) -> int:
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{clean}' AS clean (READ_ONLY)")
        con.execute(f"ATTACH '{faulty}' AS faulty (READ_ONLY)")
        columns = ", ".join(
            f"CAST({c.name} AS VARCHAR)" if c.json else c.name for c in TABLES[table].columns
        )
        clean_rows = f"SELECT {columns} FROM clean.main.{table}"
        faulty_rows = f"SELECT {columns} FROM faulty.main.{table}"
        one_sided = [
            f"{a} EXCEPT ALL {b}" for a, b in ((clean_rows, faulty_rows), (faulty_rows, clean_rows))
        ]
        return sum(con.execute(f"SELECT count(*) FROM ({q})").fetchone()[0] for q in one_sided)


def test_faulty_run_loads_exactly_what_a_clean_run_loads(tmp_path: Path):
    clean, clean_metadata, _ = _run(tmp_path / "clean", None)
    faulty, metadata, stats = _run(tmp_path / "faulty", HOSTILE, rate_limit="60/s", max_attempts=10)

    assert stats.failures > 0 and stats.resets > 0 and stats.truncations > 0
    assert stats.rate_limited > 0 and stats.drifted_pages > 0
    assert metadata["retries"] > 0
    assert metadata["throttled_429"] > 0
    assert metadata["lists_refetched"] > 0
    assert metadata["failed_calls"] == 0
    assert clean_metadata["retries"] == 0

    assert faulty.row_counts() == clean.row_counts()
    assert faulty.row_counts()["extract_errors"] == 0
    for table in TABLES:
        assert _differences(clean.lake.warehouse_path, faulty.lake.warehouse_path, table) == 0, (
            table
        )
