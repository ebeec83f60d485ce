"""Files of the data directory that cannot be read: which file, and what rebuilds it.

A lake partition is rebuilt from its raw archive (`badges replay --date D`; a night
rebuilds the partitions it reads itself, see `pipelines.night.heal`), unless the archive
is gone too. A night
record is written once, when its night is sealed, and the API serves only current state,
so nothing rebuilds it: it is restored from a copy, or its snapshot is moved aside so the
next night plans from the one before (a name with a dot is no snapshot, see
`Lake.partition_dates`). A checkpoint part of tonight's archive is set aside
by the next attempt itself (`pipelines.lake.checkpoint`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines.lake.layout import PARTITION, RAW, Lake

# What reading a damaged file raises: Arrow (e.g. "Parquet magic bytes not found in
# footer"), DuckDB ("No magic bytes found at end of file"), the OS, a JSON decoder.
READ_ERRORS = (pa.ArrowException, duckdb.Error, OSError, ValueError)
QUOTED_PATH = re.compile(r"'(/[^']+)'")


class DamagedFileError(Exception):
    """A file of the data directory cannot be read; the message names it and the remedy."""

    def __init__(self, path: Path, reason: str, remedy: str) -> None:
        super().__init__(f"{path} cannot be read ({reason}); {remedy}")
        self.path = path


def remedy_for(lake: Lake, path: Path) -> str:
    """What rebuilds (or replaces) the file at `path` of the lake."""
    relative = path.relative_to(lake.lake_dir).parts
    table, partition = relative[0], relative[1] if len(relative) > 1 else ""
    day = partition.removeprefix(PARTITION).split(".")[0]
    if partition.endswith(".building"):
        return f"start the night over with `badges run --restart` (the date is {day})"
    if table != RAW:
        archive = lake.table_root(RAW) / f"{PARTITION}{day}"
        if archive.is_dir() and any(archive.glob("*.parquet")):
            return f"rebuild the partition from its raw archive with `badges replay --date {day}`"
        return (
            f"its raw archive {archive} is gone too, so nothing here rebuilds it: restore the "
            "partition, or the archive and then `badges replay --date "
            f"{day}`, from a copy (or the bucket)"
        )
    if "_state" in relative:
        archive = path.parents[1]
        return (
            f"it is the night record of {day}, written once when that night was sealed: "
            f"restore it from a copy, or rename {archive} to {archive.name}.damaged and run "
            "again, which then plans from the snapshot before it"
        )
    return (
        f"it is part of the raw archive of {day}, the only record of that day: restore it "
        "from a copy; `badges replay` cannot rebuild that date without it"
    )


def damaged_file(lake: Lake, path: Path, error: BaseException) -> DamagedFileError:
    return DamagedFileError(path, read_error_reason(error), remedy_for(lake, path))


def read_error_reason(error: BaseException) -> str:
    """The first line of a read error, without the path it quotes (named beside it)."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return re.sub(r"\s*" + QUOTED_PATH.pattern, "", text).strip(" :.")


def _named_file(lake: Lake, error: BaseException) -> Path | None:
    """The file of the lake a read error names in its message, if any."""
    for match in QUOTED_PATH.finditer(str(error)):
        path = Path(match.group(1))
        if path.is_relative_to(lake.lake_dir) and path.is_file():
            return path
    return None


@contextmanager
def naming_damaged_files(lake: Lake) -> Iterator[None]:
    """Turns a read error that names a file of the lake into a DamagedFileError."""
    try:
        yield
    except DamagedFileError:
        raise
    except READ_ERRORS as error:
        path = _named_file(lake, error)
        if path is None:
            raise
        raise damaged_file(lake, path, error) from None


@contextmanager
def reading(path: Path) -> Iterator[None]:
    """Reads of one file of the lake: any read error becomes a DamagedFileError naming it."""
    try:
        yield
    except READ_ERRORS as error:
        lake = Lake(_data_dir_of(path))
        raise damaged_file(lake, path, error) from None


def _data_dir_of(path: Path) -> Path:
    """The data directory holding `path` (the parent of its `lake/` folder)."""
    for parent in path.parents:
        if parent.name == "lake":
            return parent.parent
    raise ValueError(f"{path} is not a file of a lake")
