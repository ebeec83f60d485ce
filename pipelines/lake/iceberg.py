"""The lake's tables as Apache Iceberg tables: one snapshot per table and night.

Every contract table (`tables.py`) is an Iceberg table (format v2) of namespace `badges`,
partitioned by `snapshot_date` (identity), with the schema of its lake files: the same
columns, `snapshot_date` as the text of its Hive path. A night's commit adds the files of
its partitions as they are (no rewrite): each is placed under the table's own location,
named after the night and the commit (`data/snapshot_date=D/<night_id>-<commit>-part-0
.parquet`), hard-linked from the lake where the table lives on this disk, uploaded first
where it lives in a bucket. The
lake may then replace or prune its partition directories freely: a snapshot's files never
change. The commit replaces the date's partition in one snapshot (an overwrite of the files
it held), so a rerun, a replay or a healed partition never duplicates a day; a reader sees
the snapshot before or after, never a mix.

The snapshot's summary carries the night: `badges.night-id`, `badges.snapshot-date` and
`badges.rows`. A night whose newest snapshot of that date carries its id is committed
already, so a commit resumed after a kill completes the tables still missing and leaves
the others.

The catalog is whatever pyiceberg is configured with (read at the edge, `ops.settings`);
the embedded default is a SQLite catalog in the data directory (`embedded_catalog`).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import EqualTo, In
from pyiceberg.io.pyarrow import parquet_file_to_data_file
from pyiceberg.table import Table as IcebergTable
from pyiceberg.table import TableProperties

from pipelines.lake.failpoints import failpoint
from pipelines.lake.iceberg_catalog import (
    CATALOG_FILE,
    CATALOG_KEY,
    NAMESPACE,
    CatalogConfig,
    CatalogUnavailable,
    answering,
    backup_sqlite,
)
from pipelines.lake.layout import PARTITION, Lake
from pipelines.lake.objectstore import Bucket
from pipelines.lake.tables import SNAPSHOT, TABLES, Table

NIGHT_ID = "badges.night-id"
SNAPSHOT_DATE = "badges.snapshot-date"
ROWS = "badges.rows"


@dataclass(frozen=True)
class TableSnapshot:
    """A table's current snapshot: its id, the night and date it committed, when."""

    table: str
    snapshot_id: int | None
    snapshot_date: str | None = None
    night_id: str | None = None
    committed_at: dt.datetime | None = None


@dataclass
class NightCommit:
    """What a night's commit did, per table: the snapshot it made or found."""

    snapshot_date: dt.date
    night_id: str
    snapshots: dict[str, TableSnapshot] = field(default_factory=dict)
    committed: list[str] = field(default_factory=list)  # the others were committed already
    seconds: float = 0.0

    def describe(self, catalog: CatalogConfig) -> str:
        done = len(self.committed)
        kept = len(self.snapshots) - done
        already = f", {kept} committed already" if kept else ""
        return (
            f"iceberg: {self.snapshot_date} committed to {done} tables of "
            f"{catalog.describe()}{already}, in {self.seconds:.2f} s"
        )


class LakeCatalog:
    """The contract tables in one Iceberg catalog."""

    def __init__(self, config: CatalogConfig) -> None:
        self.config = config
        self.catalog = config.open()

    def table(self, table: Table) -> IcebergTable:
        """The table, created (or its schema evolved to the contract's) when needed."""
        identifier = (NAMESPACE, table.name)
        schema = table.file_schema
        try:
            iceberg = self.catalog.load_table(identifier)
        except NoSuchTableError:
            self.catalog.create_namespace_if_not_exists(NAMESPACE)
            iceberg = self.catalog.create_table_if_not_exists(
                identifier, schema=schema, properties={"format-version": "2"}
            )
        if not iceberg.spec().fields:
            with iceberg.update_spec() as spec:
                spec.add_identity(SNAPSHOT.name)
        if set(schema.names) - {f.name for f in iceberg.schema().fields}:
            evolve_schema(iceberg, schema)
        return iceberg

    def tables(self) -> dict[str, IcebergTable]:
        return {name: self.table(table) for name, table in TABLES.items()}

    def current(self) -> list[TableSnapshot]:
        """Each contract table's current snapshot (None where the table has none)."""
        snapshots = []
        for name in TABLES:
            try:
                iceberg = self.catalog.load_table((NAMESPACE, name))
            except NoSuchTableError:
                snapshots.append(TableSnapshot(name, None))
                continue
            snapshots.append(_snapshot_of(name, iceberg))
        return snapshots

    def commit_night(
        self, lake: Lake, snapshot_date: dt.date, night_id: str, replace: bool = False
    ) -> NightCommit:
        """One snapshot per table holding the date's lake partitions in place of what the
        date held; a table whose newest snapshot of the date is this night's is left as
        it is, unless `replace` (a replay's new files)."""
        started = time.monotonic()
        commit = NightCommit(snapshot_date, night_id)
        for name, iceberg in self.tables().items():
            done = None if replace else _committed(iceberg, snapshot_date, night_id)
            if done is None:
                done = self._commit_table(iceberg, lake, name, snapshot_date, night_id)
                commit.committed.append(name)
                failpoint("commit")  # one table committed, the others not yet
            commit.snapshots[name] = done
        commit.seconds = time.monotonic() - started
        return commit

    def _commit_table(
        self, iceberg: IcebergTable, lake: Lake, name: str, snapshot_date: dt.date, night_id: str
    ) -> TableSnapshot:
        date = snapshot_date.isoformat()
        # An empty file has no statistics to tell its partition from: it is left out.
        commit = uuid.uuid4().hex[:8]  # a replay of the same night writes other files
        paths = [
            self._place(iceberg, path, f"{PARTITION}{date}/{night_id}-{commit}-{path.name}")
            for path in lake.table_files(name, snapshot_date)
            if pq.ParquetFile(path).metadata.num_rows
        ]
        old = [
            task.file for task in iceberg.scan(row_filter=EqualTo(SNAPSHOT.name, date)).plan_files()
        ]
        new = [parquet_file_to_data_file(iceberg.io, iceberg.metadata, p) for p in paths]
        rows = sum(f.record_count for f in new)
        summary = {NIGHT_ID: night_id, SNAPSHOT_DATE: date, ROWS: str(rows)}
        with iceberg.transaction() as tx:
            _name_mapping(tx, iceberg)
            update = tx.update_snapshot(snapshot_properties=summary)
            with update.overwrite() if old else update.fast_append() as producer:
                for data_file in old:
                    producer.delete_data_file(data_file)
                for data_file in new:
                    producer.append_data_file(data_file)
        return _snapshot_of(name, iceberg.refresh())

    def _place(self, iceberg: IcebergTable, path: Path, relative: str) -> str:
        """The lake file at the table's location: a hard link on this disk (a copy across
        devices), an upload elsewhere; its location."""
        location = f"{iceberg.location().rstrip('/')}/data/{relative}"
        if self.config.local_warehouse and location.startswith("file:"):
            target = Path(urlsplit(location).path)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except FileExistsError:
                raise
            except OSError:  # another device, or no hard links there
                shutil.copyfile(path, target)
            return location
        output = iceberg.io.new_output(location)
        with path.open("rb") as source, output.create(overwrite=True) as sink:
            shutil.copyfileobj(source, sink, 8 * 2**20)
        return location

    def expire_before(self, oldest_kept: dt.date) -> list[str]:
        """Local retention: the partitions of dates before `oldest_kept` leave every table
        (one snapshot each), the snapshots committed before the oldest kept night's are
        expired, and the files no snapshot left references are removed. Returns the tables
        changed."""
        changed = []
        for name, iceberg in self.tables().items():
            old_dates = _dates_before(iceberg, oldest_kept)
            if old_dates:
                summary = {SNAPSHOT_DATE: oldest_kept.isoformat(), "badges.retention": "1"}
                iceberg.delete(In(SNAPSHOT.name, old_dates), snapshot_properties=summary)
                iceberg = iceberg.refresh()
            if _expire(iceberg, oldest_kept):
                changed.append(name)
        return changed

    def upload_catalog(self, lake: Lake, bucket: Bucket) -> None:
        """The embedded catalog's file, copied consistently and uploaded (a bucket's
        `iceberg/catalog.sqlite`), for a fresh host and other engines."""
        if not self.config.embedded or lake.bucket_url is None:
            return
        source = lake.lake_dir / CATALOG_FILE
        copy = lake.lake_dir / f".{CATALOG_FILE}.upload"
        backup_sqlite(source, copy)
        try:
            bucket.upload(copy, CATALOG_KEY)
        finally:
            copy.unlink(missing_ok=True)


def catalog_state(config: CatalogConfig) -> tuple[bool, str, list[TableSnapshot] | None]:
    """Whether the catalog answers, it in words, and each table's current snapshot."""
    if config.embedded and not config.sqlite_path.exists():
        return True, f"{config.describe()}: none yet, the first night creates it", None
    try:
        with answering(config):
            return True, config.describe(), LakeCatalog(config).current()
    except CatalogUnavailable as error:
        return False, f"UNREACHABLE: {error}", None


def evolve_schema(iceberg: IcebergTable, schema: pa.Schema) -> None:
    """Columns the contract gained are added (old snapshots read them as null)."""
    with iceberg.update_schema() as update:
        update.union_by_name(schema)
    with iceberg.transaction() as tx:
        _name_mapping(tx, iceberg.refresh(), force=True)


def _name_mapping(tx: object, iceberg: IcebergTable, force: bool = False) -> None:
    """Our files carry no field ids: columns are read by name (Iceberg's name mapping)."""
    key = TableProperties.DEFAULT_NAME_MAPPING
    if force or key not in iceberg.properties:
        mapping = iceberg.schema().name_mapping.model_dump_json()
        tx.set_properties(**{key: mapping})  # type: ignore[attr-defined]


def _committed(
    iceberg: IcebergTable, snapshot_date: dt.date, night_id: str
) -> TableSnapshot | None:
    """The table's snapshot when its newest commit of the date is this night's."""
    date = snapshot_date.isoformat()
    for snapshot in reversed(iceberg.metadata.snapshots):
        props = snapshot.summary.additional_properties if snapshot.summary else {}
        if props.get(SNAPSHOT_DATE) == date and NIGHT_ID in props:
            if props[NIGHT_ID] == night_id:
                return _snapshot_of(iceberg.name()[-1], iceberg)
            return None
    return None


def _snapshot_of(name: str, iceberg: IcebergTable) -> TableSnapshot:
    snapshot = iceberg.current_snapshot()
    if snapshot is None:
        return TableSnapshot(name, None)
    props = snapshot.summary.additional_properties if snapshot.summary else {}
    at = dt.datetime.fromtimestamp(snapshot.timestamp_ms / 1000, dt.UTC)
    return TableSnapshot(
        name, snapshot.snapshot_id, props.get(SNAPSHOT_DATE), props.get(NIGHT_ID), at
    )


def _dates_before(iceberg: IcebergTable, oldest_kept: dt.date) -> list[str]:
    dates = set()
    for task in iceberg.scan().plan_files():
        value = task.file.partition[0]
        if value is not None and value < oldest_kept.isoformat():
            dates.add(value)
    return sorted(dates)


def _expire(iceberg: IcebergTable, oldest_kept: dt.date) -> bool:
    """Expires the snapshots of nights before `oldest_kept` (the current one stays) and
    removes the data files only they referenced; True when any went."""
    current = iceberg.current_snapshot()
    expired = [
        s.snapshot_id
        for s in iceberg.metadata.snapshots
        if current is not None
        and s.snapshot_id != current.snapshot_id
        and s.summary is not None
        and s.summary.additional_properties.get(SNAPSHOT_DATE, "9999") < oldest_kept.isoformat()
    ]
    if not expired:
        return False
    before = _data_files(iceberg)
    iceberg.maintenance.expire_snapshots().by_ids(expired).commit()
    iceberg = iceberg.refresh()
    for location in before - _data_files(iceberg):
        if location.startswith("file:"):
            Path(urlsplit(location).path).unlink(missing_ok=True)
    return True


def _data_files(iceberg: IcebergTable) -> set[str]:
    files = set()
    for snapshot in iceberg.metadata.snapshots:
        for manifest in snapshot.manifests(iceberg.io):
            for entry in manifest.fetch_manifest_entry(iceberg.io, discard_deleted=True):
                files.add(entry.data_file.file_path)
    return files
