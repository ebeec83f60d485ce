"""DuckDB DDL derived from the contract in `pipelines.lake.tables`."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from pipelines.lake.sql import quote
from pipelines.lake.tables import Column, Table

_SIMPLE_TYPES: dict[pa.DataType, str] = {
    pa.string(): "VARCHAR",
    pa.large_string(): "VARCHAR",
    pa.int64(): "BIGINT",
    pa.int32(): "INTEGER",
    pa.bool_(): "BOOLEAN",
    pa.date32(): "DATE",
    pa.float64(): "DOUBLE",
}


def duckdb_type(column: Column) -> str:
    """The DuckDB type a contract column is stored as in the warehouse."""
    if column.json:
        return "JSON"
    if pa.types.is_timestamp(column.type):
        if column.type.tz is None:
            raise ValueError(f"column {column.name} is a timestamp without a time zone")
        return "TIMESTAMPTZ"
    try:
        return _SIMPLE_TYPES[column.type]
    except KeyError:
        raise ValueError(f"column {column.name} has unsupported type {column.type}") from None


_TYPE_NAMES = {"TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ"}


def column_types(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    """Column name to DuckDB type of a built table or view, in column order."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    return {column: _TYPE_NAMES.get(type_, type_) for column, type_ in rows}


def create_table_sql(table: Table, schema: str = "main", name: str | None = None) -> str:
    """DDL for a contract table (as `name` when given); schema "temp" makes it temporary."""
    columns = ",\n    ".join(f"{quote(c.name)} {duckdb_type(c)}" for c in table.columns)
    target = quote(name or table.name)
    if schema == "temp":
        return f"CREATE OR REPLACE TEMP TABLE {target} (\n    {columns}\n)"
    return f"CREATE OR REPLACE TABLE {schema}.{target} (\n    {columns}\n)"


def typed_select_list(table: Table) -> str:
    """Every contract column, cast to its warehouse type, in contract order."""
    return ", ".join(
        f"CAST({quote(c.name)} AS {duckdb_type(c)}) AS {quote(c.name)}" for c in table.columns
    )
