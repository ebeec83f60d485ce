"""Rows of one contract table buffered and written as Parquet row groups."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from pipelines.lake.partition_swap import PartWriter
from pipelines.lake.tables import Table


def rows_to_arrow(table: Table, rows: list[dict[str, Any]]) -> pa.Table:
    """Row dicts -> an Arrow table of `table`'s schema (a row lacking a column has null there).

    Arrow converts the dicts as one struct array, row by row in C++: walking a Python
    list of dicts once per column, as a transpose in Python does, costs many times more
    (each pass touches every row dict again, far from the CPU caches).
    """
    schema = table.arrow_schema
    structs = pa.array(rows, type=pa.struct(schema))
    return pa.Table.from_batches([pa.RecordBatch.from_struct_array(structs)], schema=schema)


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
