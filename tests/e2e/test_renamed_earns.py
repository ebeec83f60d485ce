"""A night in which the vendor's earns come under names the mapping does not know (the
sandbox's `renamed_earns`): the night publishes, every earn the answers hold is a row
(its key derived from what it carries, every key in `extra`), and the non-blocking
coverage check warns, naming the keys."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow.parquet as pq

from pipelines.sandbox import Faults, generate_org
from pipelines.sandbox.faults import RENAMED_EARN_KEYS
from tests.e2e.conftest import start_pipeline, today

EARNS = "customer_badge_detail.data.earnDetails.earns[]"


def earns_answered(raw_dir: Path) -> int:
    total = 0
    for path in sorted(raw_dir.glob("*.parquet")):
        table = pq.read_table(path, columns=["endpoint", "body"]).to_pylist()
        for record in table:
            if record["endpoint"] == "customer_badge_detail" and record["body"]:
                data = orjson.loads(record["body"]).get("data") or {}
                total += len((data.get("earnDetails") or {}).get("earns") or [])
    return total


def test_earns_under_other_names_are_kept_and_warned_of(tmp_path: Path) -> None:
    org = generate_org(customers=12, badges=6, seed=5, as_of=today())
    runs = start_pipeline(tmp_path, org, Faults(renamed_earns=True))
    pipeline = next(runs)
    try:
        result = pipeline.run()
    finally:
        runs.close()

    assert result.success
    answered = earns_answered(pipeline.lake.raw_dir(today()))
    assert answered > 0
    rows = pipeline.query(
        "SELECT count(*), count(*) FILTER (WHERE key_derived), "
        "count(*) FILTER (WHERE extra->>'$.id' IS NOT NULL) FROM main.badge_earns"
    )
    assert rows == [(answered, answered, answered)]
    (check,) = [
        evaluation
        for evaluation in result.get_asset_check_evaluations()
        if evaluation.check_name == "objects_fill_columns"
        and evaluation.asset_key.to_user_string() == "lake/badge_earns"
    ]
    assert not check.passed and not check.blocking
    for name in ("id", "earnedDate", "state", "awardedByType"):
        assert name in check.description
    passed = {
        e.asset_key.to_user_string()
        for e in result.get_asset_check_evaluations()
        if e.check_name == "objects_fill_columns" and e.passed
    }
    assert {"lake/badges", "lake/customer_badges", "lake/badge_issuals"} <= passed
    summary = result.asset_materializations_for_node("raw_api_responses")[0].metadata
    coverage = summary["coverage"].value[EARNS]
    assert coverage["objects"] == coverage["unmapped"] == answered
    assert set(RENAMED_EARN_KEYS.values()) <= set(coverage["keys"])
