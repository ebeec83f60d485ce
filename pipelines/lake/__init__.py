"""Storage: where every file of a snapshot lives, and the only code that reads or writes them.

The raw archive, the lake's table partitions, a night's checkpoint and record, the staging
and published warehouse files: `Lake` names their paths, and the modules here write them
durably (temporary file, fsync, rename) and read them back.
"""

from pipelines.lake.layout import Lake

__all__ = ["Lake"]
