"""The bucket as the system of record, the data directory as its working copy.

Keys repeat the data directory's layout, so the bucket is a lake other engines read with
Hive partitioning:

    lake/raw/snapshot_date=D/...           the raw archive and night record of D
    lake/<table>/snapshot_date=D/...        the table partitions of D
    lake/raw/snapshot_date=D.building/...   tonight's checkpoint, uploaded as it is written
    warehouse/snapshot_date=D/warehouse.duckdb   the warehouse published for D (last few)
    nights/snapshot_date=D.json             the manifest: every object of D, size and sha256
    latest.json                             the pointer to the newest published night

A night is uploaded after its local publish: objects first (each verified by size), then
its manifest, then the pointer, so a reader following the pointer never sees half a night.
A local night without a manifest in the bucket is pending, uploaded first by the next run.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.lake.checkpoint import NOTE
from pipelines.lake.dbfiles import read_snapshot_date
from pipelines.lake.durable import write_text
from pipelines.lake.layout import PARTITION, Lake
from pipelines.lake.objectstore import Bucket, BucketAccess, BucketError, sha256

POINTER = "latest.json"
PENDING_DIR = "bucket-pending"  # data/bucket-pending/D: D was published here since its upload
WAREHOUSE_COPIES = 3
logger = logging.getLogger(__name__)  # published warehouse files kept in the bucket, newest first


@dataclass
class Transfer:
    """What one upload or restore moved."""

    objects: int = 0
    bytes: int = 0
    seconds: float = 0.0
    dates: list[dt.date] = field(default_factory=list)

    def add(self, size: int) -> None:
        self.objects += 1
        self.bytes += size

    def describe(self, verb: str) -> str:
        nights = ", ".join(d.isoformat() for d in self.dates) or "nothing"
        return (
            f"bucket: {verb} {nights}: {self.objects} objects, "
            f"{self.bytes / 2**20:.1f} MiB in {self.seconds:.1f} s"
        )


@dataclass(frozen=True)
class _Comparison:
    pending: list[dt.date]
    marked: set[dt.date]
    uploaded: set[dt.date]
    published: dt.date | None
    warehouse_behind: bool  # the pointer is older than the published warehouse


class Mirror:
    def __init__(self, lake: Lake, bucket: Bucket) -> None:
        self.lake = lake
        self.bucket = bucket

    def key(self, path: Path) -> str:
        return path.relative_to(self.lake.root).as_posix()

    def local(self, key: str) -> Path:
        return self.lake.root / key

    def uploaded_dates(self) -> list[dt.date]:
        """Nights whose manifest is in the bucket, oldest first."""
        return sorted(
            dt.date.fromisoformat(Path(key).stem.removeprefix(PARTITION))
            for key in self.bucket.list("nights/")
            if key.endswith(".json")
        )

    def pending(self) -> list[dt.date]:
        """Nights published here and not yet in the bucket, oldest first: a night published
        (again) since its last upload, a night without its manifest, and the published
        warehouse's night when the pointer is older."""
        return self._compare().pending

    def upload_pending(self) -> Transfer:
        """Uploads what `pending` names: each night's objects, verified, then its manifest;
        the published warehouse, then the pointer to it."""
        started = time.monotonic()
        state = self._compare()
        transfer = Transfer(dates=state.pending)
        for snapshot_date in transfer.dates:
            if snapshot_date in state.marked or snapshot_date not in state.uploaded:
                self._upload_night(snapshot_date, transfer)
        if state.published is not None and (
            state.published in state.marked or state.warehouse_behind
        ):
            self._upload_warehouse(state.published, transfer)
        for snapshot_date in state.marked:
            (self.lake.root / PENDING_DIR / snapshot_date.isoformat()).unlink(missing_ok=True)
        transfer.seconds = time.monotonic() - started
        return transfer

    def _compare(self) -> _Comparison:
        """The data directory against the bucket, read once: one listing, one pointer."""
        marked, uploaded = set(self._marked()), set(self.uploaded_dates())
        published = read_snapshot_date(self.lake.warehouse_path)
        behind = published is not None and self._pointer_older_than(published)
        nights = set(self.lake.raw_dates()) - uploaded | marked | ({published} if behind else set())
        return _Comparison(sorted(nights), marked, uploaded, published, behind)

    def _marked(self) -> list[dt.date]:
        directory = self.lake.root / PENDING_DIR
        names = sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []
        return [dt.date.fromisoformat(name) for name in names if "." not in name]

    def _upload_night(self, snapshot_date: dt.date, transfer: Transfer) -> None:
        """The night's objects, then its manifest; objects of an earlier upload of the same
        night that this one no longer has are deleted after."""
        earlier = self.bucket.read_json(manifest_key(snapshot_date)) or {"objects": {}}
        objects = {}
        for path in self._night_files(snapshot_date):
            objects[self.key(path)] = self._upload(path, self.key(path), transfer)
        manifest = {"snapshot_date": snapshot_date.isoformat(), "objects": objects}
        self.bucket.write_json(manifest_key(snapshot_date), manifest)
        stale = [k for k in earlier["objects"] if k.startswith("lake/") and k not in objects]
        building = self._checkpoint_keys(snapshot_date)
        self.bucket.delete([*stale, *building])

    def _upload_warehouse(self, snapshot_date: dt.date, transfer: Transfer) -> None:
        key = warehouse_key(snapshot_date)
        described = self._upload(self.lake.warehouse_path, key, transfer)
        manifest = self.bucket.read_json(manifest_key(snapshot_date)) or {"objects": {}}
        manifest["objects"][key] = described
        self.bucket.write_json(manifest_key(snapshot_date), manifest)
        pointer = {"snapshot_date": snapshot_date.isoformat(), "warehouse": key}
        self.bucket.write_json(POINTER, pointer | {"manifest": manifest_key(snapshot_date)})
        copies = sorted(k for k in self.bucket.list("warehouse/") if k.endswith(".duckdb"))
        self.bucket.delete(copies[:-WAREHOUSE_COPIES])

    def _upload(self, path: Path, key: str, transfer: Transfer) -> dict[str, object]:
        checksum = sha256(path)
        size = self.bucket.upload(path, key)
        transfer.add(size)
        return {"size": size, "sha256": checksum}

    def _night_files(self, snapshot_date: dt.date) -> list[Path]:
        """Every file of the night's partitions: the raw archive and each table."""
        partition = f"{PARTITION}{snapshot_date.isoformat()}"
        directories = [t / partition for t in sorted(self.lake.lake_dir.iterdir()) if t.is_dir()]
        return [p for d in directories if d.is_dir() for p in sorted(d.rglob("*")) if p.is_file()]

    def bring_up_to_date(
        self, snapshot_date: dt.date, refresh_days: int, restart: bool = False
    ) -> list[str]:
        """Before a night's first call: the bucket answers, the nights it lacks are
        uploaded, and what the night needs from it is restored (tonight's checkpoint
        discarded instead on `restart`). Raises BucketError."""
        self.bucket.check()
        if restart:
            self.bucket.delete(self._checkpoint_keys(snapshot_date))
        uploaded = self.upload_pending()
        restored = self.restore(snapshot_date, refresh_days)
        return [uploaded.describe("uploaded"), restored.describe("restored")]

    def _checkpoint_keys(self, snapshot_date: dt.date) -> list[str]:
        """The bucket's copy of a night's checkpoint (`lake/raw/snapshot_date=D.building/`)."""
        return list(self.bucket.list(self.key(self.lake.building_dir(snapshot_date))))

    def _pointer_older_than(self, snapshot_date: dt.date) -> bool:
        pointer = self.bucket.read_json(POINTER)
        return pointer is None or dt.date.fromisoformat(pointer["snapshot_date"]) < snapshot_date

    def restore(self, snapshot_date: dt.date, refresh_days: int) -> Transfer:
        """Whatever the night of `snapshot_date` needs that the data directory lacks: the
        published warehouse, the raw archives detail reuse copies from (the last
        `refresh_days` nights), every partition of the last night (carry-forward), and
        tonight's checkpoint."""
        started = time.monotonic()
        transfer = Transfer()
        pointer = self.bucket.read_json(POINTER)
        if pointer is not None:
            last = dt.date.fromisoformat(pointer["snapshot_date"])
            local = read_snapshot_date(self.lake.warehouse_path)
            if local is None or local < last:
                transfer.add(self._download(pointer["warehouse"], self.lake.warehouse_path))
            window = last - dt.timedelta(days=refresh_days)
            for day in self.uploaded_dates():
                if window <= day <= last:
                    self._restore_night(day, transfer, raw=True, tables=day == last)
        if not self.lake.building_dir(snapshot_date).exists():
            for key in self._checkpoint_keys(snapshot_date):
                transfer.add(self._download(key, self.local(key)))
        transfer.seconds = time.monotonic() - started
        return transfer

    def restore_nights(
        self, dates: list[dt.date], raw: bool = True, tables: bool = True
    ) -> Transfer:
        """The partitions of `dates` (the raw archive, the tables) that the bucket holds
        and the data directory lacks: a replay, a backfill or a history rebuild."""
        started = time.monotonic()
        transfer = Transfer()
        for day in sorted(set(dates) & set(self.uploaded_dates())):
            self._restore_night(day, transfer, raw, tables)
        transfer.seconds = time.monotonic() - started
        return transfer

    def _restore_night(self, day: dt.date, transfer: Transfer, raw: bool, tables: bool) -> None:
        """Each partition of `day` absent here, downloaded beside its place and renamed into
        it whole, so a stopped restore never leaves a partition that looks complete."""
        manifest = self.bucket.read_json(manifest_key(day)) or {"objects": {}}
        partitions: dict[Path, dict[str, int]] = {}
        for key, described in manifest["objects"].items():
            if key.startswith("lake/"):
                partition = self.local("/".join(key.split("/")[:3]))  # lake/<table>/<D>
                partitions.setdefault(partition, {})[key] = described["size"]
        raw_dir = self.lake.raw_dir(day)
        restored = False
        for directory, objects in sorted(partitions.items()):
            if directory.exists() or not (raw if directory == raw_dir else tables):
                continue
            incoming = directory.with_name(directory.name + ".restoring")
            for key, size in sorted(objects.items()):
                relative = self.local(key).relative_to(directory)
                transfer.add(self._download(key, incoming / relative, size))
            incoming.rename(directory)
            restored = True
        if restored:
            transfer.dates.append(day)

    def _download(self, key: str, local: Path, size: int | None = None) -> int:
        received = self.bucket.download(key, local)
        if size is not None and received != size:
            local.unlink()
            raise OSError(f"bucket {self.bucket.url}: {key} gave {received} bytes, expected {size}")
        return received


class CheckpointUploads:
    """Uploads each checkpoint file of a night as it is written, before the next call is
    made: a checkpoint is in the bucket, in order, once written (a few small objects every
    `BADGES_CHECKPOINT_SECONDS`, so the night hardly waits). A failed upload is logged
    and ends the uploads of the night; the files are still here, and the night's publish
    uploads the whole archive."""

    def __init__(self, mirror: Mirror | None, building_dir: Path) -> None:
        self._mirror = mirror
        self._note = building_dir / NOTE  # the API the answers come from: sent first

    def submit(self, path: Path) -> None:
        if self._mirror is None:
            return
        try:
            for file in [self._note, path] if self._note else [path]:
                self._mirror.bucket.upload(file, self._mirror.key(file))
            self._note = None
        except (BucketError, OSError) as error:
            logger.warning(f"checkpoints no longer uploaded tonight, kept here: {error}")
            self._mirror = None


def mark_pending(lake: Lake, snapshot_date: dt.date) -> None:
    """Notes that a night was (re)published here, so the next upload sends it again."""
    if lake.bucket_url:
        write_text("", lake.root / PENDING_DIR / snapshot_date.isoformat())


def manifest_key(snapshot_date: dt.date) -> str:
    return f"nights/{PARTITION}{snapshot_date.isoformat()}.json"


def warehouse_key(snapshot_date: dt.date) -> str:
    return f"warehouse/{PARTITION}{snapshot_date.isoformat()}/warehouse.duckdb"


def mirror_of(lake: Lake, access: BucketAccess) -> Mirror | None:
    """The lake's bucket mirror, or None when no bucket is configured."""
    return Mirror(lake, Bucket.from_url(lake.bucket_url, access)) if lake.bucket_url else None


def bucket_state(lake: Lake, access: BucketAccess) -> tuple[bool, str] | None:
    """Whether the bucket answers and holds every night published here, and a line saying
    so; None when no bucket is configured."""
    if not lake.bucket_url:
        return None
    try:
        mirror = mirror_of(lake, access)
        mirror.bucket.check()
        pending = mirror.pending()
    except BucketError as error:
        return False, f"{error}"
    if pending:
        nights = ", ".join(d.isoformat() for d in pending)
        return False, (
            f"bucket {lake.bucket_url} behind by {len(pending)} night(s): {nights} "
            "(uploaded first by the next run)"
        )
    return True, f"bucket {lake.bucket_url}: up to date"
