"""Whether a data directory can be used: one check, which `badges doctor` prints and a night
runs before anything else. The path must be a directory that can be created (when it does
not exist yet) and written; free space is then measured where it lives (`space.py`)."""

from __future__ import annotations

import tempfile
from pathlib import Path

VARIABLE = "BADGES_DATA_DIR"


class DataDirUnusable(RuntimeError):
    """The data directory cannot be created or written; nothing was done."""


def nearest_existing(path: Path) -> Path:
    """`path` itself, or its nearest ancestor that exists: the file system it will live on."""
    existing = path.absolute()
    while not existing.exists():
        existing = existing.parent
    return existing


def data_dir_problem(root: Path) -> str | None:
    """Why `root` cannot serve as the data directory, one line naming it; None when it can.

    The directories it lacks are created and a file written in it, then removed again, so
    that what is reported is what the night will meet, not what permission bits suggest."""
    existing = nearest_existing(root)
    if not existing.is_dir():
        return (
            f"{VARIABLE} {root} cannot be created: {existing} is a file, not a directory; "
            f"set {VARIABLE} to a directory"
        )
    created: list[Path] = []
    try:
        for directory in reversed(_missing(root.absolute(), existing)):
            directory.mkdir()
            created.append(directory)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".writable-"):
            pass
    except OSError as error:
        doing = "written" if existing == root.absolute() else f"created in {existing}"
        return f"{VARIABLE} {root} cannot be {doing}: {error.strerror or error}"
    finally:
        for directory in reversed(created):
            directory.rmdir()
    return None


def ensure_data_dir(root: Path) -> None:
    """Raises DataDirUnusable, naming the path and the cause, when `root` cannot be used."""
    problem = data_dir_problem(root)
    if problem is not None:
        raise DataDirUnusable(problem)


def _missing(path: Path, existing: Path) -> list[Path]:
    """The directories from `path` up to (not including) `existing`, deepest first."""
    missing = []
    while path != existing:
        missing.append(path)
        path = path.parent
    return missing
