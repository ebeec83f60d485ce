"""What a crashed or killed night left behind besides its checkpoint, given back before the next.

- `staging/`: the warehouse copies a night builds before one is swapped in;
- `lake/<table>/.tmp-*`: the normalizer's temporary partitions (a partition a crash left
  moved aside, `.old-*`, is put back when its replacement never arrived);
- `lake/raw/snapshot_date=D.old`: an archive moved aside by its swap (put back likewise);
- `*.tmp` files: durable writes killed before their rename.

The checkpoints (`snapshot_date=D.building/`) stay: the next attempt resumes from them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pipelines.lake.durable import OLD_SUFFIX, TEMP_SUFFIX, moved_aside
from pipelines.lake.layout import RAW, Lake
from pipelines.lake.partition_swap import TEMP_PREFIX, recover_partitions
from pipelines.lake.space import directory_bytes


def give_back_leftovers(lake: Lake) -> int:
    """Removes what earlier nights left behind; returns the bytes given back."""
    given_back = _remove_tree(lake.staging_dir)
    if not lake.lake_dir.is_dir():
        return given_back
    for table_root in sorted(p for p in lake.lake_dir.iterdir() if p.is_dir()):
        given_back += sum(directory_bytes(p) for p in table_root.glob(f"{TEMP_PREFIX}*"))
        recover_partitions(table_root)
    given_back += _restore_moved_archives(lake)
    for leftover in lake.lake_dir.rglob(f"*{TEMP_SUFFIX}"):
        if leftover.is_file():
            given_back += leftover.stat().st_size
            leftover.unlink()
    return given_back


def _remove_tree(path: Path) -> int:
    size = directory_bytes(path)
    shutil.rmtree(path, ignore_errors=True)
    return size


def _restore_moved_archives(lake: Lake) -> int:
    """Archives whose swap was cut short: put back when nothing took their place."""
    given_back = 0
    raw_root = lake.table_root(RAW)
    for archive in (p.with_suffix("") for p in sorted(raw_root.glob(f"*{OLD_SUFFIX}"))):
        old = moved_aside(archive)
        if archive.exists():
            given_back += _remove_tree(old)
        else:
            os.replace(old, archive)
    return given_back
