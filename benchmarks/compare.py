"""Comparing two snapshots' contract tables row for row."""

from __future__ import annotations

from collections.abc import Callable, Collection

import duckdb

from pipelines.lake.tables import TABLES, Table

Source = Callable[[Table], str]  # the SQL a table's rows are selected from


def rows_apart(
    con: duckdb.DuckDBPyConnection,
    left: Source,
    right: Source,
    skip: Collection[str] = (),
) -> dict[str, int]:
    """Per contract table: rows on one side and not the other (both directions), the
    columns named in `skip` left out."""
    apart = {}
    for table in TABLES.values():
        cols = ", ".join(f"CAST({c.name} AS VARCHAR)" for c in table.columns if c.name not in skip)
        count = 0
        for x, y in ((left, right), (right, left)):
            query = f"SELECT {cols} FROM {x(table)} EXCEPT ALL SELECT {cols} FROM {y(table)}"
            count += con.execute(f"SELECT count(*) FROM ({query})").fetchone()[0]
        apart[table.name] = count
    return apart
