"""Dagster's standard table metadata, so the asset catalog explains the warehouse.

What docs/warehouse.md says, per asset: the column schema (`dagster/column_schema`) with
each column's type and meaning, the row count (`dagster/row_count`) and, for SQL models,
the first rows. Contract columns come from `pipelines.lake.tables`; model columns from
`sql/models.yml` (a test keeps its types equal to the built ones); history columns from the
built `history` tables, described by the contract and the history bookkeeping columns.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from dagster import MetadataValue, TableColumn, TableRecord, TableSchema

from pipelines.lake.sql import quote
from pipelines.lake.tables import TABLES, Table
from pipelines.warehouse.dbt_project import MODEL_SCHEMA, model_docs
from pipelines.warehouse.ddl import column_types, duckdb_type
from pipelines.warehouse.docs import HISTORY_COLUMNS
from pipelines.warehouse.history import HISTORY_SCHEMA

COLUMN_SCHEMA = "dagster/column_schema"
ROW_COUNT = "dagster/row_count"
PARTITION_ROW_COUNT = "dagster/partition_row_count"
PREVIEW_ROWS = 10


def contract_schema(table: Table) -> TableSchema:
    """A contract table as loaded into DuckDB: warehouse types, contract descriptions."""
    return TableSchema(
        columns=[TableColumn(c.name, duckdb_type(c), c.description) for c in table.columns]
    )


def lake_schema(table: Table) -> TableSchema:
    """A contract table as written to Parquet: Arrow types (JSON columns are text)."""
    return TableSchema(
        columns=[
            TableColumn(
                field.name, "string (JSON)" if column.json else str(field.type), column.description
            )
            for field, column in zip(table.file_schema, table.columns, strict=True)
        ]
    )


def model_schema(model: str) -> TableSchema:
    """A model's columns as sql/models.yml declares them: name, DuckDB type, meaning."""
    return TableSchema(
        columns=[
            TableColumn(column, type_, meaning)
            for column, (type_, meaning) in model_docs()[model].columns.items()
        ]
    )


def table_metadata(schema: TableSchema, rows: int) -> dict[str, Any]:
    """The standard keys plus `rows`, the count this project has always reported."""
    return {"rows": rows, ROW_COUNT: rows, COLUMN_SCHEMA: schema}


def contract_table_metadata(name: str, rows: int) -> dict[str, Any]:
    return table_metadata(contract_schema(TABLES[name]), rows)


def lake_table_metadata(name: str, rows: int) -> dict[str, Any]:
    """The lake keeps every snapshot: the rows written are one partition's, not the table's."""
    return {"rows": rows, PARTITION_ROW_COUNT: rows, COLUMN_SCHEMA: lake_schema(TABLES[name])}


def model_metadata(con: duckdb.DuckDBPyConnection, model: str) -> dict[str, Any]:
    """Schema, row count and the first rows of a model built on `con`."""
    schema = model_schema(model)
    (rows,) = con.execute(f"SELECT count(*) FROM {MODEL_SCHEMA}.{quote(model)}").fetchone()
    return table_metadata(schema, rows) | {"preview": preview(con, MODEL_SCHEMA, model, schema)}


def preview(
    con: duckdb.DuckDBPyConnection, schema_name: str, table: str, schema: TableSchema
) -> MetadataValue:
    """The first `PREVIEW_ROWS` rows, in the table's stored order, as plain values."""
    cursor = con.execute(f"SELECT * FROM {schema_name}.{quote(table)} LIMIT {PREVIEW_ROWS}")
    names = [column[0] for column in cursor.description]
    records = [
        TableRecord({name: plain_value(value) for name, value in zip(names, row, strict=True)})
        for row in cursor.fetchall()
    ]
    return MetadataValue.table(records, schema=schema)


def plain_value(value: object) -> str | int | float | bool | None:
    """A value a metadata record can hold: numbers and text as they are, dates as ISO text."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)


def history_metadata(staging: Path, rows: Mapping[str, int]) -> dict[str, Any]:
    """Rows per history table (`history.<table>`) and each table's columns beside it."""
    metadata: dict[str, Any] = {}
    with duckdb.connect(str(staging), read_only=True) as con:
        for name, count in rows.items():
            descriptions = {c.name: c.description for c in TABLES[name].columns}
            descriptions |= HISTORY_COLUMNS
            columns = [
                TableColumn(column, type_, descriptions.get(column))
                for column, type_ in column_types(con, HISTORY_SCHEMA, name).items()
            ]
            metadata[f"history.{name}"] = count
            metadata[f"history.{name} columns"] = MetadataValue.table_schema(TableSchema(columns))
    return metadata


def warehouse_summary(warehouse: Path) -> MetadataValue:
    """Every table of the published file with its row count, as a Markdown table."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('main', ?, ?) ORDER BY table_schema = 'main' DESC, "
            "table_schema, table_name",
            [MODEL_SCHEMA, HISTORY_SCHEMA],
        ).fetchall()
        lines = ["| table | rows |", "|---|---:|"]
        for schema_name, table in tables:
            (count,) = con.execute(f"SELECT count(*) FROM {schema_name}.{quote(table)}").fetchone()
            lines.append(f"| `{schema_name}.{table}` | {count:,} |")
    return MetadataValue.md("\n".join(lines))
