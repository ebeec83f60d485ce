"""A first night over the vendor's examples in which the vendor repeats an entry of every
kind of list, repeats two with other values and sends an ISO twin that is not a date: the
night publishes, each entry is one row, the report names every repeat by its path, the
other values are rows of `extract_errors` and the twin is in `extra`."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from pipelines.lake.raw import RawRecord
from pipelines.normalize.normalizer import RecordNormalizer
from pipelines.sandbox.vendor_world import (
    BADGE123,
    ISSUE_EARN283,
    ISSUEDS_TEST6,
    TEST_BADGE_0212,
    VendorWorld,
    example_text,
)
from tests.e2e.conftest import Pipeline
from tests.vendor.conftest import start_vendor_pipeline

EARN = {"earnId": "e-1", "earnedOn": 1765185213.63, "earnStatus": "ACTIVE"}
NOT_A_DATE = "Ünïcødé"
CHANGED_LIMIT = 987  # the other value of a conflicting repeat


def again(entries: list, change: dict[str, Any] | None = None) -> None:
    """Repeats a list's first entry at its end (with `change` applied, when given)."""
    entries.append({**copy.deepcopy(entries[0]), **(change or {})})


def mutated_examples() -> dict[str, dict]:
    """The served examples, each with its repeats: every list kind the night reads."""
    examples = {
        name: orjson.loads(example_text(name))
        for name in (
            "get-customer-badges-2",
            "get-badge-meta-by-id-1",
            "get-badge-meta-by-id-2",
            "get-customer-badge-detail-7",
            "get-customer-badge-detail-1",
        )
    }
    again(examples["get-customer-badges-2"]["data"]["badges"])
    meta = examples["get-badge-meta-by-id-1"]["data"]
    again(meta["ownership"]["claims"])
    meta["ownership"]["restrictedToOwners"].append(meta["ownership"]["restrictedToOwners"][0])
    again(meta["badgeConstraints"])
    again(meta["customerConstraints"], {"maxEarnLimit": CHANGED_LIMIT})
    examples["get-badge-meta-by-id-2"]["data"]["startOnISO"] = NOT_A_DATE
    detail = examples["get-customer-badge-detail-7"]["data"]
    again(detail["issualDetails"]["issuals"])
    again(detail["customerConstraints"])
    again(detail["badgeConstraints"], {"maxEarnLimit": CHANGED_LIMIT})
    examples["get-customer-badge-detail-1"]["data"]["earnDetails"]["earns"] = [EARN, EARN]
    return examples


@dataclass
class RepeatNight:
    pipeline: Pipeline
    metadata: dict[str, Any]

    def query(self, sql: str) -> list[tuple]:
        return self.pipeline.query(sql)


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RepeatNight]:
    served = {name: orjson.dumps(answer) for name, answer in mutated_examples().items()}
    runs = start_vendor_pipeline(
        tmp_path_factory.mktemp("vendor-repeats"), world=VendorWorld(served)
    )
    pipeline = next(runs)
    try:
        result = pipeline.run()
    finally:
        runs.close()
    assert result.success
    metadata = result.asset_materializations_for_node("raw_api_responses")[0].metadata
    yield RepeatNight(pipeline, {key: value.value for key, value in metadata.items()})


def rows_of_example(name: str, endpoint: str, table: str, badge_id: str, **who: Any) -> int:
    """Rows the unmutated example makes of `table`, normalized on its own."""
    record = RawRecord(
        endpoint, "/x", True, 200, example_text(name), who.get("customer"), who.get("kind"),
        badge_id,
    )  # fmt: skip
    return len(RecordNormalizer(dt.date(2026, 1, 1)).normalize(record).get(table, []))


def test_the_night_publishes_and_each_repeated_entry_is_one_row(night: RepeatNight) -> None:
    assert night.metadata["failed_calls"] == 0
    meta = ("get-badge-meta-by-id-1", "badge_meta")
    detail = ("get-customer-badge-detail-7", "customer_badge_detail")
    mobile = {"customer": "919999999994", "kind": "mobile"}
    expected = {
        ("badge_claims", TEST_BADGE_0212): rows_of_example(*meta, "badge_claims", TEST_BADGE_0212),
        ("badge_owners", TEST_BADGE_0212): rows_of_example(*meta, "badge_owners", TEST_BADGE_0212),
        ("badge_constraints", TEST_BADGE_0212): rows_of_example(
            *meta, "badge_constraints", TEST_BADGE_0212
        ),
        ("badge_issuals", ISSUE_EARN283): rows_of_example(
            *detail, "badge_issuals", ISSUE_EARN283, **mobile
        ),
        ("customer_badge_constraints", ISSUE_EARN283): rows_of_example(
            *detail, "customer_badge_constraints", ISSUE_EARN283, **mobile
        ),
        ("badge_earns", ISSUEDS_TEST6): 1,
    }
    loaded = {
        (table, badge): night.query(
            f"SELECT count(*) FROM main.{table} WHERE badge_id = '{badge}'"
        )[0][0]
        for table, badge in expected
    }
    assert loaded == expected
    assert all(count >= 1 for count in expected.values())
    listed = night.query(
        "SELECT count(*) FROM main.customer_badges "
        "WHERE customer_id = '62407752' AND list_type = 'EARNED'"
    )
    assert listed == [(1,)]


def test_the_report_names_every_repeat_by_its_path(night: RepeatNight) -> None:
    assert set(night.metadata["repeats"]) == {
        "customer_badges.data.badges[]",
        "badge_meta.data.ownership.claims[]",
        "badge_meta.data.ownership.restrictedToOwners[]",
        "badge_meta.data.badgeConstraints[]",
        "customer_badge_detail.data.issualDetails.issuals[]",
        "customer_badge_detail.data.customerConstraints[]",
        "customer_badge_detail.data.earnDetails.earns[]",
    }
    assert all(entry["count"] >= 1 for entry in night.metadata["repeats"].values())
    warnings = night.metadata["warnings"]
    assert warnings["badge_claims: repeated entry"] == 1
    assert warnings["customer_badges: repeated entry"] == 1


def test_a_conflicting_repeat_keeps_the_first_and_names_the_other(night: RepeatNight) -> None:
    assert set(night.metadata["conflicts"]) == {
        "badge_meta.data.customerConstraints[]",
        "customer_badge_detail.data.badgeConstraints[]",
    }
    errors = night.query(
        "SELECT endpoint, customer_id, badge_id, message FROM main.extract_errors "
        "WHERE error_code = 'repeated_key' ORDER BY endpoint"
    )
    assert [(e, c, b) for e, c, b, _ in errors] == [
        ("badge_meta", None, TEST_BADGE_0212),
        ("customer_badge_detail", "919999999994", ISSUE_EARN283),
    ]
    for _, _, _, message in errors:
        assert f'"max_earn_limit":{CHANGED_LIMIT}' in message
    kept = night.query(
        f"SELECT count(*) FROM main.badge_constraints WHERE max_earn_limit = {CHANGED_LIMIT}"
    )
    assert kept == [(0,)]  # the first entry is the row


def test_an_iso_twin_that_is_not_a_date_is_in_extra(night: RepeatNight) -> None:
    rows = night.query(
        f"SELECT starts_at, extra->>'$.startOnISO' FROM main.badges WHERE badge_id = '{BADGE123}'"
    )
    assert rows == [(dt.datetime(2024, 5, 27, 9, 51, 27, tzinfo=dt.UTC), NOT_A_DATE)]
    assert night.metadata["disagreements"] == {
        "badge_meta.data.startOnISO": {"count": 1, "sample": f'"{NOT_A_DATE}"'}
    }
