"""A night in which the vendor added a key to its badges: `badges run` publishes it, the key's
value sits in `extra` under its source key, and the night's summary, its metadata, the
non-blocking check and `badges status` name it with its path, count and a sample."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckSeverity, AssetKey, DagsterEventType, DagsterInstance

from pipelines.sandbox import Faults, SandboxCredentials, SandboxServer
from pipelines.sandbox.vendor_world import VendorWorld
from tests.ops.processes import prepare_home, run_badges

NEW_KEY = "badgeTier"
SAMPLE = '"GOLD"'
# The object each contract table's rows come from, as the drift report names it.
SOURCES = {
    "badges": "badge_meta.data",
    "customer_badges": "customer_badges.data.badges[]",
    "customer_badge_details": "customer_badge_detail.data",
}


@dataclass
class DriftNight:
    run: str  # what `badges run` printed
    status: str  # what `badges status` printed
    home: Path
    warehouse: Path
    rows: dict[str, int]  # rows per table holding the new key in extra, under its own name

    def instance(self) -> DagsterInstance:
        return DagsterInstance.from_config(str(self.home))


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DriftNight]:
    root = tmp_path_factory.mktemp("vendor-drift")
    world, credentials = VendorWorld(), SandboxCredentials.random()
    world.write_customers_csv(root / "customers.csv")
    home = prepare_home(root / "home")
    faults = Faults(new_key=f"{NEW_KEY}={SAMPLE}")
    with SandboxServer(world=world, credentials=credentials, faults=faults) as server:
        environment = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CAPILLARY_", "BADGES_")) and k != "DAGSTER_HOME"
        } | {
            "CAPILLARY_BASE_URL": server.base_url,
            "CAPILLARY_USERNAME": credentials.username,
            "CAPILLARY_PASSWORD": credentials.password,
            "CAPILLARY_CUSTOMERS": str(root / "customers.csv"),
            "BADGES_DATA_DIR": str(root / "data"),
            "DAGSTER_HOME": str(home),
        }
        ran = run_badges("run", environment=environment)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    status = run_badges("status", environment=environment)
    warehouse = root / "data" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = {
            table: con.execute(
                f"SELECT count(*) FROM main.{table} WHERE extra->>'$.{NEW_KEY}' = 'GOLD'"
            ).fetchone()[0]
            for table in SOURCES
        }
        totals = {t: con.execute(f"SELECT count(*) FROM main.{t}").fetchone()[0] for t in SOURCES}
    assert rows == totals  # every row of a badge the vendor answered keeps the new key
    assert all(rows.values()), rows
    yield DriftNight(ran.stdout, status.stdout, home, warehouse, rows)


def expected_paths(night: DriftNight) -> dict[str, int]:
    return {f"{SOURCES[table]}.{NEW_KEY}": count for table, count in night.rows.items()}


def test_the_night_publishes_and_badges_run_prints_each_new_key(night: DriftNight) -> None:
    assert "published (run " in night.run
    lines = night.run.splitlines()
    assert "  drift: 3 new keys, 0 fields with values of the wrong type" in night.run
    for path, count in expected_paths(night).items():
        row = f"    new key     {path}  in {count:,} row{'s' if count > 1 else ''}, e.g. {SAMPLE}"
        assert row in lines, night.run
    assert "  normalizer warnings: none" in lines, night.run


def test_the_runs_metadata_holds_path_count_and_sample(night: DriftNight) -> None:
    expected = {path: {"count": n, "sample": SAMPLE} for path, n in expected_paths(night).items()}
    with night.instance() as instance:
        extract = instance.get_latest_materialization_event(AssetKey("raw_api_responses"))
        metadata = extract.asset_materialization.metadata
        assert metadata["new_keys"].value == expected
        assert metadata["wrong_types"].value == {}
        assert metadata["warnings"].value == {}  # a new key is drift, not a value refused
        for table, source in SOURCES.items():
            lake = instance.get_latest_materialization_event(AssetKey(["lake", table]))
            path = f"{source}.{NEW_KEY}"
            assert lake.asset_materialization.metadata["new_keys"].value == {path: expected[path]}


def test_the_warn_check_names_the_new_key_of_each_table(night: DriftNight) -> None:
    with night.instance() as instance:
        (run,) = instance.get_run_records()
        events = instance.all_logs(
            run.dagster_run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION
        )
    checks = {
        data.asset_key.to_user_string(): data
        for data in (event.get_dagster_event().asset_check_evaluation_data for event in events)
        if data.check_name == "no_new_keys"
    }
    failed = {key for key, data in checks.items() if not data.passed}
    assert failed == {f"lake/{table}" for table in SOURCES}
    assert {"lake/badge_issuals", "lake/customer_badge_constraints"} <= checks.keys()
    for table, count in night.rows.items():
        check = checks[f"lake/{table}"]
        path = f"{SOURCES[table]}.{NEW_KEY}"
        assert check.severity == AssetCheckSeverity.WARN and not check.blocking
        assert check.metadata["new_keys"].value == {path: {"count": count, "sample": SAMPLE}}
        assert f"{path} in {count:,} rows, e.g. {SAMPLE}" in check.description
        assert f"check warned: lake/{table} no_new_keys: " in night.run


def test_badges_status_lists_the_published_snapshots_new_keys(night: DriftNight) -> None:
    lines = night.status.splitlines()
    assert "drift       3 new keys, 0 fields with values of the wrong type" in night.status
    for path, count in expected_paths(night).items():
        assert f"  new key     {path}  in {count:,} rows, e.g. {SAMPLE}" in lines, night.status
