"""Nights over the vendor's world: the sandbox answering with the documented examples."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb

from pipelines.lake import Lake
from pipelines.lake.tables import TABLES
from pipelines.sandbox import Faults, SandboxCredentials, SandboxServer
from pipelines.sandbox.vendor_world import VendorWorld
from tests.e2e.conftest import Pipeline

# Columns that say when a row was fetched or loaded, not what the vendor said.
WHEN_LOADED = {"fetched_on", "loaded_at"}


def start_vendor_pipeline(
    tmp_path: Path,
    faults: Faults | None = None,
    credentials: SandboxCredentials | None = None,
    world: VendorWorld | None = None,
) -> Iterator[Pipeline]:
    """A pipeline against a fresh vendor world on 127.0.0.1, into `tmp_path/data`."""
    world = world or VendorWorld()
    customers_csv = tmp_path / "customers.csv"
    world.write_customers_csv(customers_csv)
    credentials = credentials or SandboxCredentials()
    with SandboxServer(world=world, credentials=credentials, faults=faults or Faults()) as server:
        yield Pipeline(server, credentials, customers_csv, Lake(tmp_path / "data"))


def contract_rows(warehouse: Path) -> dict[str, list[tuple]]:
    """Every contract table's rows, sorted, without the columns that say when they were
    fetched or loaded."""
    tables = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name, table in TABLES.items():
            columns = ", ".join(
                f"CAST({c.name} AS VARCHAR)" if c.json else c.name
                for c in table.columns
                if c.name not in WHEN_LOADED
            )
            rows = con.execute(f"SELECT {columns} FROM main.{name}").fetchall()
            tables[name] = sorted(rows, key=repr)
    return tables
