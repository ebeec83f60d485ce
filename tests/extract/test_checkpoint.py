"""The checkpoint: whole files only, and a resume that keeps answers and drops the rest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pyarrow.parquet as pq

from pipelines.extract.resume import open_checkpoint
from pipelines.lake.checkpoint import NOTE, CheckpointWriter
from pipelines.lake.raw import RawRecord
from tests.client.fake_clock import FakeClock

URL = "https://eu.api.example.test"
DAY = dt.date(2026, 5, 4)


def record(endpoint: str, customer: str | None, ok: bool = True, **fields) -> RawRecord:
    return RawRecord(
        endpoint=endpoint,
        request_path="/x",
        ok=ok,
        customer_id=customer,
        identifier_type="id" if customer else None,
        **fields,
    )


def meta(badge: str, updated: float) -> RawRecord:
    body = orjson.dumps({"data": {"lastUpdatedOn": updated, "issuedCount": 1, "earnedCount": 2}})
    return record("badge_meta", None, badge_id=badge, http_status=200, body=body)


def test_records_are_written_as_whole_files_at_each_checkpoint(tmp_path: Path):
    clock = FakeClock(start=0.0)
    batches = []
    writer = CheckpointWriter(tmp_path, on_batch=batches.append, batch_rows=3, clock=clock)
    writer.add([record("customer_badges", "c1", page=p, http_status=200) for p in range(2)])
    writer.flush_if_due()
    assert list(tmp_path.glob("responses-*")) == []  # neither full nor due yet
    writer.add([record("customer_badge_detail", "c1", badge_id="b1", http_status=200)])
    assert sorted(p.name for p in tmp_path.glob("responses-*")) == ["responses-000001.parquet"]
    writer.add([record("customer_badge_detail", "c1", badge_id="b2", http_status=200)])
    clock.now = 11.0  # past the checkpoint interval
    writer.flush_if_due()
    assert [t.num_rows for t in batches] == [3, 1]
    assert pq.read_table(tmp_path / "responses-000002.parquet").num_rows == 1
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_resume_keeps_answers_and_drops_what_must_be_asked_again(tmp_path: Path):
    (tmp_path / "_state").mkdir()
    assert open_checkpoint(tmp_path, URL, set()).answered_calls == 0  # a fresh start
    writer = CheckpointWriter(tmp_path)
    writer.add([record("customer_badges", "c1", http_status=200, list_type=t) for t in "ABCD"])
    writer.add_pairs([("c1", "id", "b1", b"digest-1")])
    writer.add([record("customer_badges", "c2", http_status=200, list_type="A")])  # unfinished
    writer.add([record("customer_badge_detail", "c1", badge_id="b1", http_status=200)])
    writer.add([record("customer_badges", "c3", ok=False, http_status=404, error_code="1026")])
    writer.add_pairs([("c3", "id", None, None)])  # unknown customer: an answer, no badge
    writer.add([record("customer_badge_detail", "c1", ok=False, badge_id="b2", http_status=503,
                       error_code="http_5xx")])  # fmt: skip
    writer.add([meta("b1", 1.5)])
    writer.add([record("customer_badges", "c9", http_status=200, list_type="A")])
    writer.add_pairs([("c9", "id", None, None)])
    writer.add_decision(("c1", "id", "b3", "f" * 32, DAY - dt.timedelta(days=2), True))
    writer.flush()
    (tmp_path / "responses-000002.parquet.tmp").write_bytes(b"half a file")  # a killed write

    scope = {("c1", "id"), ("c2", "id"), ("c3", "id")}  # c9 left the customers file
    resumed = open_checkpoint(tmp_path, URL, scope)

    assert resumed.listed == {("c1", "id"): [("b1", b"digest-1")], ("c3", "id"): []}
    assert resumed.details_done == {("c1", "id", "b1"), ("c1", "id", "b3")}
    assert set(resumed.meta_stamps) == {"b1"}
    assert resumed.answered_calls == 4 + 1 + 1 + 1  # c1's lists, its detail, c3, the meta
    assert resumed.next_part == 2
    kept = pq.read_table(tmp_path / "responses-000001.parquet").to_pylist()
    assert {(r["endpoint"], r["customer_id"]) for r in kept} == {
        ("customer_badges", "c1"),
        ("customer_badge_detail", "c1"),
        ("customer_badges", "c3"),
        ("badge_meta", None),
    }
    assert not list(tmp_path.glob("*.tmp"))


def test_a_checkpoint_of_another_api_is_not_resumed(tmp_path: Path):
    open_checkpoint(tmp_path, URL, set())
    writer = CheckpointWriter(tmp_path)
    writer.add([record("customer_badges", "c1", http_status=200)])
    writer.flush()
    resumed = open_checkpoint(tmp_path, "https://another.example.test", {("c1", "id")})
    assert resumed.answered_calls == 0
    assert not list(tmp_path.glob("responses-*"))
    assert "another.example.test" in (tmp_path / NOTE).read_text()


def lists_of(customer: str) -> list[RawRecord]:
    return [record("customer_badges", customer, http_status=200, list_type=t) for t in "ABCD"]


def test_an_unreadable_part_is_set_aside_with_the_state_resting_on_it(tmp_path: Path):
    open_checkpoint(tmp_path, URL, set())
    writer = CheckpointWriter(tmp_path)
    for customer in ("c1", "c2", "c3"):  # one checkpoint each: parts 1, 2 and 3
        writer.add(lists_of(customer))
        writer.add_pairs([(customer, "id", "b1", b"digest")])
        writer.flush()
    damaged = tmp_path / "responses-000002.parquet"
    truncated = damaged.read_bytes()[:40]  # as a write the disk lost leaves it
    damaged.write_bytes(truncated)

    resumed = open_checkpoint(tmp_path, URL, {("c1", "id"), ("c2", "id"), ("c3", "id")})

    assert resumed.listed == {("c1", "id"): [("b1", b"digest")]}  # c2, c3 are listed again
    assert resumed.answered_calls == 4
    assert resumed.next_part == 4  # no new part takes a number set aside
    assert not damaged.exists()
    aside = tmp_path / "_damaged"
    assert (aside / damaged.name).read_bytes() == truncated  # kept as it was
    assert sorted(p.name for p in (aside / "_state").iterdir()) == [
        "pairs-000002.parquet",
        "pairs-000003.parquet",
    ]
    assert [p.name for p in (tmp_path / "_state").glob("pairs-*")] == ["pairs-000001.parquet"]
    assert not (tmp_path / "responses-000003.parquet").exists()  # only c3's unfinished lists
    [warning] = resumed.warnings
    assert str(damaged) in warning and str(aside / damaged.name) in warning
    assert "magic bytes" in warning and "made again" in warning


def test_a_restart_discards_the_checkpoint_and_says_so(tmp_path: Path):
    open_checkpoint(tmp_path, URL, set())
    writer = CheckpointWriter(tmp_path)
    writer.add(lists_of("c1"))
    writer.add_pairs([("c1", "id", "b1", b"digest")])
    writer.flush()

    resumed = open_checkpoint(tmp_path, URL, {("c1", "id")}, restart=True)

    assert (resumed.answered_calls, resumed.listed, resumed.next_part) == (0, {}, 1)
    assert not list(tmp_path.rglob("*.parquet"))
    assert resumed.warnings == [
        f"restart: discarded the checkpoint {tmp_path} (1 response part(s)) on request; "
        "the night starts from scratch"
    ]
