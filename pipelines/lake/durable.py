"""Durable writes: a file is written under a temporary name, fsynced and renamed into place,
so a crash or a power cut leaves the old file or the new one, never half of one."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

TEMP_SUFFIX = ".tmp"
OLD_SUFFIX = ".old"


def fsync_path(path: Path) -> None:
    """Flushes a file's data, or a directory's entries (after a rename), to disk."""
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_parquet(
    data: pa.Table | pa.RecordBatchReader,
    path: Path,
    schema: pa.Schema,
    skip_empty: bool = False,
    on_batch: Callable[[pa.Table], None] | None = None,
) -> int:
    """Writes `data` (a table, or batches as they come) as one Parquet file of `schema`;
    returns its rows. With `skip_empty`, no file is written when there are none;
    `on_batch` sees every batch as it is written."""
    temporary = path.with_name(path.name + TEMP_SUFFIX)
    writer: pq.ParquetWriter | None = None
    rows = 0
    try:
        for batch in data.to_batches() if isinstance(data, pa.Table) else data:
            if batch.num_rows == 0:
                continue
            if writer is None:
                writer = _writer(temporary, schema)
            batch = batch if batch.schema == schema else batch.cast(schema)
            writer.write_batch(batch)
            rows += batch.num_rows
            if on_batch is not None:
                on_batch(pa.Table.from_batches([batch]))
        if writer is None:
            if skip_empty:
                return 0
            writer = _writer(temporary, schema)
        writer.close()
    except BaseException:
        if writer is not None:
            writer.close()
        temporary.unlink(missing_ok=True)
        raise
    _install(temporary, path)
    return rows


def _writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    path.parent.mkdir(parents=True, exist_ok=True)
    return pq.ParquetWriter(path, schema, compression="zstd")


def write_text(text: str, path: Path) -> None:
    temporary = path.with_name(path.name + TEMP_SUFFIX)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        temporary.write_text(text, encoding="utf-8")
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _install(temporary, path)


def _install(temporary: Path, path: Path) -> None:
    """Renames a complete temporary file into place; a failure gives its space back."""
    try:
        fsync_path(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_path(path.parent)


def replace_directory(new: Path, target: Path) -> None:
    """Puts `new` in place of `target`; the old one is removed only after the swap."""
    old = moved_aside(target)
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    fsync_path(target.parent)
    shutil.rmtree(old, ignore_errors=True)


def moved_aside(target: Path) -> Path:
    """Where `replace_directory` keeps the old directory during its swap."""
    return target.with_name(target.name + OLD_SUFFIX)
