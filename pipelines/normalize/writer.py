"""Rows of one contract table buffered and written as Parquet row groups."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from pipelines.lake.partitions import PartWriter
from pipelines.lake.tables import Table


def rows_to_arrow(table: Table, rows: list[dict[str, Any]]) -> pa.Table:
    """Row dicts -> an Arrow table of `table`'s schema, one conversion per column."""
    schema = table.arrow_schema
    arrays = [
        pa.array(values, type=field.type)
        for values, field in zip(_columns(schema.names, rows), schema, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def _columns(names: list[str], rows: list[dict[str, Any]]) -> list[list[Any]]:
    """The rows transposed into one value list per name (a row lacking a name has null)."""
    try:
        return [[row[name] for row in rows] for name in names]
    except KeyError:
        return [[row.get(name) for row in rows] for name in names]


class BufferedTableWriter:
    """Collects rows of one table and writes them as row groups of `flush_rows`."""

    def __init__(self, table: Table, path: Path, flush_rows: int) -> None:
        self.table = table
        self.rows_written = 0
        self._flush_rows = flush_rows
        self._pending: list[dict[str, Any]] = []
        self._part = PartWriter(path, table.file_schema)

    def extend(self, rows: list[dict[str, Any]]) -> None:
        self._pending.extend(rows)
        if len(self._pending) >= self._flush_rows:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._part.write(rows_to_arrow(self.table, self._pending))
            self.rows_written += len(self._pending)
            self._pending = []

    def close(self) -> None:
        self.flush()
        self._part.close()

    def abort(self) -> None:
        """Closes the file without writing what is pending (it is about to be discarded)."""
        self._pending = []
        self._part.abort()
