"""Generates sql/sources.yml: the contract tables of schema `main` as dbt sources.

The contract (`pipelines.lake.tables`, `main.snapshot_info` of the loader) is declared once;
dbt's copy of it is written from there, and a test keeps the committed file equal to what
is generated. Rewrite it with `uv run python -m pipelines.warehouse.dbt_sources`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pipelines.lake.tables import TABLES, Table
from pipelines.warehouse.ddl import duckdb_type
from pipelines.warehouse.loader import SNAPSHOT_INFO_COLUMNS, SNAPSHOT_INFO_GRAIN

SOURCES_PATH = Path(__file__).resolve().parents[2] / "sql" / "sources.yml"
SOURCE_NAME = "main"
SNAPSHOT_INFO = "snapshot_info"

_HEADER = (
    "# Generated from pipelines/lake/tables.py and the loader's main.snapshot_info:\n"
    "# do not edit; run `uv run python -m pipelines.warehouse.dbt_sources`.\n"
)


class _Dumper(yaml.SafeDumper):
    """Block style, keys in the order given."""


def _contract_table(table: Table) -> dict[str, Any]:
    return {
        "name": table.name,
        "description": f"One row per {table.grain}.",
        "meta": {"grain": table.grain, "key": list(table.key)},
        "columns": [
            {"name": c.name, "description": c.description, "data_type": duckdb_type(c)}
            for c in table.columns
        ],
    }


def _snapshot_info() -> dict[str, Any]:
    columns: list[dict[str, Any]] = []
    for name, meaning in SNAPSHOT_INFO_COLUMNS.items():
        if name == "<table>_rows":  # one column per contract table
            columns += [
                {"name": f"{t}_rows", "description": f"Rows loaded into main.{t}."} for t in TABLES
            ]
        else:
            columns.append({"name": name, "description": meaning})
    columns[0]["data_tests"] = ["not_null", "is_the_night"]
    return {
        "name": SNAPSHOT_INFO,
        "description": SNAPSHOT_INFO_GRAIN[:1].upper() + SNAPSHOT_INFO_GRAIN[1:] + ".",
        "columns": columns,
    }


def render_sources_yaml() -> str:
    """The full text of sql/sources.yml."""
    source = {
        "name": SOURCE_NAME,
        "schema": SOURCE_NAME,
        "description": "The contract tables of the night's snapshot, loaded from the lake.",
        "tables": [*(_contract_table(t) for t in TABLES.values()), _snapshot_info()],
    }
    body = yaml.dump(
        {"version": 2, "sources": [source]},
        Dumper=_Dumper,
        sort_keys=False,
        width=100,
        allow_unicode=True,
    )
    return _HEADER + body


def write_sources_yaml(path: Path = SOURCES_PATH) -> Path:
    path.write_text(render_sources_yaml(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"wrote {write_sources_yaml()}")
