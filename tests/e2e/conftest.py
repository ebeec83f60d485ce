"""End-to-end fixtures: a real sandbox server on 127.0.0.1 and real Dagster materializations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from dagster import materialize

from assets.bucket import bucket_copy, bucket_restore
from assets.extract import raw_api_responses
from assets.local_retention import local_retention
from assets.warehouse import warehouse_assets
from pipelines.lake import Lake
from pipelines.ops.launch import LAUNCHED_AT_TAG
from pipelines.ops.resources import BucketResource, CapillaryApiResource, LakeResource
from pipelines.sandbox import (
    Faults,
    Org,
    SandboxCredentials,
    SandboxServer,
    SandboxStats,
    generate_org,
)
from tests.clock import test_started, today
from tests.nights import instance_offering

ALL_ASSETS = [
    bucket_restore,
    raw_api_responses,
    *warehouse_assets,
    local_retention,
    bucket_copy,
]


@dataclass
class Pipeline:
    """Runs the nightly assets against one sandbox, into one data directory."""

    server: SandboxServer
    credentials: SandboxCredentials
    customers_csv: Path
    lake: Lake

    @property
    def org(self) -> Org:
        return self.server.org

    def api(self, **overrides: object) -> CapillaryApiResource:
        config = {
            "base_url": self.server.base_url,
            "username": self.credentials.username,
            "password": self.credentials.password,
            "customers_file": str(self.customers_csv),
            "page_size": 10,
            "concurrency": 16,
            "max_attempts": 8,
        }
        config.update(overrides)
        return CapillaryApiResource(**config)

    def run(
        self,
        snapshot_date: dt.date | None = None,
        launched: dt.datetime | None = None,
        **api_overrides: object,
    ):
        """A night of `snapshot_date` (default the test's day), launched at `launched`
        (default when the test started): its mode, tonight or a replay of a past date, is
        the one the test meant, at any hour."""
        snapshot_date = snapshot_date or today()
        return materialize(
            ALL_ASSETS,
            partition_key=snapshot_date.isoformat(),
            tags={LAUNCHED_AT_TAG: (launched or test_started()).isoformat()},
            resources={
                "capillary_api": self.api(**api_overrides),
                "lake": LakeResource(data_dir=str(self.lake.root), bucket_url=self.lake.bucket_url),
                "bucket": BucketResource(),
            },
            instance=instance_offering(snapshot_date),
            raise_on_error=False,
        )

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.lake.warehouse_path), read_only=True) as con:
            return con.execute(sql).fetchall()

    def row_counts(self) -> dict[str, int]:
        from pipelines.lake.tables import TABLES

        return {t: self.query(f"SELECT count(*) FROM main.{t}")[0][0] for t in TABLES}


def start_pipeline(tmp_path: Path, org: Org, faults: Faults | None = None) -> Iterator[Pipeline]:
    credentials = SandboxCredentials()
    customers_csv = tmp_path / "customers.csv"
    org.write_customers_csv(customers_csv)
    with SandboxServer(org, credentials=credentials, faults=faults or Faults()) as server:
        yield Pipeline(server, credentials, customers_csv, Lake(tmp_path / "data"))


def run_against(
    tmp_path: Path, org: Org, faults: Faults | None = None, **api: object
) -> tuple[Pipeline, dict, SandboxStats]:
    """One successful night against its own sandbox: the pipeline, the extract step's
    metadata (plain values) and what the sandbox saw."""
    runs = start_pipeline(tmp_path, org, faults)
    pipeline = next(runs)
    try:
        result = pipeline.run(**api)
        stats = pipeline.server.stats
    finally:
        runs.close()
    assert result.success
    extract = result.asset_materializations_for_node("raw_api_responses")[0].metadata
    return pipeline, {k: v.value for k, v in extract.items()}, stats


@pytest.fixture
def small_org() -> Org:
    return generate_org(customers=40, badges=24, seed=11, as_of=today())


@pytest.fixture
def pipeline(tmp_path: Path, small_org: Org) -> Iterator[Pipeline]:
    yield from start_pipeline(tmp_path, small_org)
