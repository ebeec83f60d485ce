"""Generates docs/warehouse.md from the contract, the dbt project's YAML and manifest.

Run `uv run python -m pipelines.warehouse.docs` to rewrite the file.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import duckdb

from pipelines.lake import Lake
from pipelines.lake.engine import STORAGE_VERSION, STORAGE_VERSION_NUMBER
from pipelines.lake.tables import TABLES, Table
from pipelines.warehouse.dbt_project import MODEL_SCHEMA, model_docs, model_reads
from pipelines.warehouse.ddl import column_types, create_table_sql, duckdb_type
from pipelines.warehouse.history import (
    EVENT_TABLES,
    HISTORY_SCHEMA,
    VERSIONED_TABLES,
    build_history,
)
from pipelines.warehouse.loader import (
    NIGHT_COLUMNS,
    SNAPSHOT_INFO_COLUMNS,
    SNAPSHOT_INFO_GRAIN,
    write_snapshot_info,
)

DOCS_PATH = Path(__file__).resolve().parents[2] / "docs" / "warehouse.md"
_DOCS_DATE = dt.date(2000, 1, 1)  # any date: only column types are read from the empty build


HISTORY_STORAGE = (
    "Each night applies only its own snapshot. Every `history.<t>` is a view over "
    "`history.<t>_latest` (the latest version of every key, or for issuals and earns the "
    "ids of the latest snapshot: the only part a night rewrites) and `history.<t>_earlier` "
    "(superseded versions, or ids no longer seen); `history.applied_snapshots` lists the "
    "snapshots applied. A version changes with the data, never with `fetched_on` alone.\n"
)
HISTORY_COLUMNS = {
    "version_number": "1 for the key's first version, counting up.",
    "valid_from": "First snapshot that had this version.",
    "valid_to": "First later snapshot that no longer had it (changed or absent); null if current.",
    "is_current": "True when the latest snapshot still has this version.",
    "first_seen_snapshot": "First snapshot the id appeared in.",
    "last_seen_snapshot": "Last snapshot the id appeared in; the other columns are as seen then.",
}


def render_warehouse_docs() -> str:
    """The full text of docs/warehouse.md."""
    with duckdb.connect() as con, tempfile.TemporaryDirectory() as empty_lake:
        _build_empty_warehouse(con, Lake(Path(empty_lake)))
        sections = [
            _intro(),
            "## Schema `main`: the latest published snapshot\n",
            *(_contract_section(table) for table in TABLES.values()),
            _snapshot_info_section(),
            f"## Schema `{MODEL_SCHEMA}`: the dbt models (`sql/<name>.sql`, `sql/models.yml`)\n",
            *(_model_section(name) for name in model_docs()),
            f"## Schema `{HISTORY_SCHEMA}`: changes across snapshots\n",
            HISTORY_STORAGE,
            *(_history_section(con, name) for name in [*VERSIONED_TABLES, *EVENT_TABLES]),
        ]
    return "\n".join(sections).rstrip() + "\n"


def write_warehouse_docs(path: Path = DOCS_PATH) -> Path:
    """Writes the rendered docs to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_warehouse_docs(), encoding="utf-8")
    return path


def _build_empty_warehouse(con: duckdb.DuckDBPyConnection, lake: Lake) -> None:
    for table in TABLES.values():
        con.execute(create_table_sql(table))
    write_snapshot_info(con, _DOCS_DATE, {name: 0 for name in TABLES})
    build_history(con, lake, _DOCS_DATE)


def _intro() -> str:
    return (
        "# Warehouse reference\n\n"
        "Generated from `pipelines/lake/tables.py` and the dbt project in `sql/` (its\n"
        "`models.yml` and manifest); regenerate with `uv run python -m pipelines.warehouse.docs`.\n"
        "`dbt docs generate` (see docs/models.md) shows the same models with their lineage.\n\n"
        "`warehouse.duckdb` under `$BADGES_DATA_DIR` is replaced as a whole by each nightly\n"
        "publish (atomic rename). Open it with `duckdb.connect(path, read_only=True)`: an open\n"
        "connection keeps the snapshot it opened; close every connection to the file in a\n"
        "process and reconnect to see a newer one (DuckDB reuses an open database of the same\n"
        "path within one process). Timestamps are `TIMESTAMPTZ` in UTC.\n\n"
        f"The file is written in DuckDB's storage version `{STORAGE_VERSION}` (file version\n"
        f"{STORAGE_VERSION_NUMBER}), not in the newest one of the DuckDB that builds it (2.0): "
        "DuckDB 1.4, 1.5\nand 2.0 open it, so the DuckDB CLI on PyPI (`duckdb-cli`, 1.5) and "
        "the Python packages\nof the last two minor lines, as notebooks and BI tools pin "
        "them, read it. A file in\n2.0's own format opens in 2.0 only (`Trying to read a "
        "database file with version number\n69, but we can only read versions between 64 "
        "and 68`). The CLI, in one command:\n"
        "`uvx --from duckdb-cli duckdb -readonly data/warehouse.duckdb` (or `uv tool install\n"
        "duckdb-cli` once, then `duckdb`).\n"
    )


def _table_block(
    header: str,
    facts: dict[str, str],
    rows: list[tuple[str, str, str]],
    lead: str = "",
) -> str:
    lines = [header, ""]
    if lead:
        lines += [lead, ""]
    lines += [f"- {label}: {value}" for label, value in facts.items()]
    lines += ["", "| column | type | meaning |", "|---|---|---|"]
    lines += [
        f"| `{name}` | {type_} | {meaning.replace('|', '/')} |" for name, type_, meaning in rows
    ]
    return "\n".join(lines) + "\n"


def _contract_section(table: Table) -> str:
    rows = [(c.name, duckdb_type(c), c.description) for c in table.columns]
    key = ", ".join(table.key) + ("" if table.unique else " (not unique)")
    facts = {"grain": table.grain, "key": key}
    if table.keyed_by:
        facts["keyed"] = f"rows with {', '.join(table.keyed_by)} set (the others are not keyed)"
    return _table_block(f"### `main.{table.name}`", facts, rows)


def _snapshot_info_section() -> str:
    rows = [
        (name, _snapshot_info_type(name), meaning)
        for name, meaning in SNAPSHOT_INFO_COLUMNS.items()
    ]
    facts = {"grain": SNAPSHOT_INFO_GRAIN, "key": "(single row)"}
    return _table_block("### `main.snapshot_info`", facts, rows)


def _snapshot_info_type(name: str) -> str:
    types = {"snapshot_date": "DATE", "loaded_at": "TIMESTAMPTZ", **NIGHT_COLUMNS}
    return types.get(name, "BIGINT")


def _model_section(name: str) -> str:
    doc = model_docs()[name]
    rows = [(column, type_, meaning) for column, (type_, meaning) in doc.columns.items()]
    facts = {
        "grain": doc.grain,
        "key": ", ".join(doc.key),
        "reads": ", ".join(f"`{ref}`" for ref in sorted(model_reads(name))),
    }
    return _table_block(f"### `{MODEL_SCHEMA}.{name}`", facts, rows, lead=doc.description)


def _history_section(con: duckdb.DuckDBPyConnection, name: str) -> str:
    table = TABLES[name]
    meanings = {c.name: c.description for c in table.columns} | HISTORY_COLUMNS
    built = column_types(con, HISTORY_SCHEMA, name)
    rows = [(column, type_, meanings[column]) for column, type_ in built.items()]
    if name in EVENT_TABLES:
        grain, key = f"{table.grain}, kept once", EVENT_TABLES[name]
    else:
        grain, key = f"version of a {table.grain}", ", ".join([*table.key, "valid_from"])
    return _table_block(f"### `{HISTORY_SCHEMA}.{name}`", {"grain": grain, "key": key}, rows)


if __name__ == "__main__":
    print(f"wrote {write_warehouse_docs()}")
