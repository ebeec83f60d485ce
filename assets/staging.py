"""A full disk while the staging warehouse is built fails the step with the disk named."""

import datetime as dt
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from dagster import Failure

from pipelines.lake import Lake
from pipelines.lake.dbfiles import remove_database
from pipelines.lake.space import DiskFull, naming_a_full_disk
from pipelines.warehouse.loader import staging_path


@contextmanager
def building_staging(lake: Lake, snapshot_date: dt.date, doing: str) -> Iterator[None]:
    """Runs a step that writes the staging warehouse of `snapshot_date`. On a full disk the
    staging copy is removed, so the disk is not left full, and the step fails naming the
    directory and the space to free; the published warehouse stays as it was."""
    staging = staging_path(lake, snapshot_date)

    def give_back() -> None:
        remove_database(staging)
        shutil.rmtree(lake.spill_dir, ignore_errors=True)

    try:
        with naming_a_full_disk(lake, f"{doing} for {snapshot_date}", give_back):
            yield
    except DiskFull as error:
        raise Failure(
            f"{error} (the staging copy {staging} was removed)", allow_retries=False
        ) from None
