"""Resuming a night: what earlier attempts already have is not asked again.

A run that finds a checkpoint of the same API for its date (see `pipelines.lake.checkpoint`)
keeps its answers: calls that got no answer are dropped (they are made again), and so are
the list pages of customers whose lists are not all done, and everything of customers
outside tonight's scope. The rest is fed to the normalizer again and not asked for.
A checkpoint file that cannot be read is set aside (with the state resting on it) and
its calls are made again; `restart` discards the whole checkpoint on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.client.endpoints import DETAIL_ENDPOINT, LIST_ENDPOINT, META_ENDPOINT
from pipelines.extract.incremental import meta_stamp
from pipelines.extract.raw_records import is_answer
from pipelines.lake.checkpoint import Checkpoint, SetAside
from pipelines.lake.keys import CustomerKey, PairKey
from pipelines.lake.raw import RawRecord

Listed = dict[CustomerKey, list[tuple[str, bytes]]]  # customer -> (badge, entries digest)


@dataclass
class Resumed:
    """What earlier attempts of the night already have, so it is not asked again."""

    next_part: int = 1
    answered_calls: int = 0  # calls already answered (each record is one request)
    meta_stamps: dict[str, bytes | None] = field(default_factory=dict)  # badge -> stamp
    listed: Listed = field(default_factory=dict)
    details_done: set[PairKey] = field(default_factory=set)
    parts: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # what the operator should know

    @property
    def resumed(self) -> bool:
        return self.answered_calls > 0


def open_checkpoint(
    directory: Path, base_url: str, scope: set[CustomerKey], restart: bool = False
) -> Resumed:
    """Resumes from `directory` when an earlier attempt left one for the same API; else
    (or with `restart`) starts it empty. Records of customers outside `scope` are dropped."""
    checkpoint = Checkpoint(directory)
    if restart or not checkpoint.is_for(base_url):
        parts = len(list(checkpoint.response_parts())) if directory.is_dir() else 0
        checkpoint.start(base_url)
        return Resumed(warnings=[_discarded(directory, parts)] if restart else [])
    checkpoint.remove_leftovers()
    set_aside = checkpoint.set_aside_unreadable()
    resumed = Resumed(
        next_part=checkpoint.next_part(),
        listed=_listed_customers(checkpoint, scope),
        warnings=[_set_aside_warning(entry) for entry in set_aside],
    )
    for _, path in checkpoint.response_parts():
        kept = _kept_records(checkpoint, path, resumed.listed, scope)
        if kept.num_rows == 0:
            continue
        resumed.parts.append(path)
        resumed.answered_calls += kept.num_rows
        _note_done(kept, resumed)
    resumed.details_done |= _reused_pairs(checkpoint, scope)
    return resumed


def _discarded(directory: Path, parts: int) -> str:
    return (
        f"restart: discarded the checkpoint {directory} ({parts} response part(s)) "
        "on request; the night starts from scratch"
    )


def _set_aside_warning(entry: SetAside) -> str:
    return (
        f"checkpoint file {entry.path} cannot be read ({entry.reason}): moved to "
        f"{entry.moved_to}; its calls are made again"
    )


def _listed_customers(checkpoint: Checkpoint, scope: set[CustomerKey]) -> Listed:
    listed: Listed = {}
    for table in checkpoint.pairs():
        for customer_id, identifier_type, badge_id, digest in zip(
            *(column.to_pylist() for column in table.columns), strict=True
        ):
            key = (customer_id, identifier_type)
            if key in scope:
                pairs = listed.setdefault(key, [])
                if badge_id is not None:
                    pairs.append((badge_id, digest))
    return listed


def _kept_records(
    checkpoint: Checkpoint, path: Path, listed: Listed, scope: set[CustomerKey]
) -> pa.Table:
    """The part's records worth keeping; the part is rewritten without the others."""
    table = pa.parquet.read_table(path)
    keep = []
    for row in table.select(
        ["endpoint", "ok", "http_status", "error_code", "customer_id", "identifier_type"]
    ).to_pylist():
        record = RawRecord(request_path="", **row)
        customer = (row["customer_id"], row["identifier_type"])
        in_scope = row["customer_id"] is None or customer in scope
        lists_done = row["endpoint"] != LIST_ENDPOINT.name or customer in listed
        keep.append(is_answer(record) and in_scope and lists_done)
    return checkpoint.keep_rows(path, table, keep)


def _note_done(table: pa.Table, resumed: Resumed) -> None:
    endpoint = table.column("endpoint")
    details = table.filter(pc.equal(endpoint, DETAIL_ENDPOINT.name))
    for customer_id, identifier_type, badge_id in zip(
        *(details.column(n).to_pylist() for n in ("customer_id", "identifier_type", "badge_id")),
        strict=True,
    ):
        resumed.details_done.add((customer_id, identifier_type, badge_id))
    metas = table.filter(pc.equal(endpoint, META_ENDPOINT.name))
    for badge_id, ok, body in zip(
        *(metas.column(n).to_pylist() for n in ("badge_id", "ok", "body")), strict=True
    ):
        resumed.meta_stamps[badge_id] = _stamp_of(body) if ok else None


def _stamp_of(body: bytes | None) -> bytes | None:
    try:
        data = orjson.loads(body or b"").get("data")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return meta_stamp(data) if isinstance(data, dict) else None


def _reused_pairs(checkpoint: Checkpoint, scope: set[CustomerKey]) -> set[PairKey]:
    pairs: set[PairKey] = set()
    for table in checkpoint.decisions():
        reused = table.filter(pc.field("reused"))
        for customer_id, identifier_type, badge_id in zip(
            *(reused.column(n).to_pylist() for n in ("customer_id", "identifier_type", "badge_id")),
            strict=True,
        ):
            if (customer_id, identifier_type) in scope:
                pairs.add((customer_id, identifier_type, badge_id))
    return pairs
