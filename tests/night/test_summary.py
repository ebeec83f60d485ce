"""The night's summary carries the normalizer's warnings and drift report into the run's
metadata, and back out as the lines `badges run` prints."""

import datetime as dt
from collections import Counter

from pipelines.cli.run import RunOutcome
from pipelines.extract.outcome import ExtractReport
from pipelines.extract.planning import NightPlan
from pipelines.lake.nightrecord import NightNote
from pipelines.night.summary import NightSummary
from pipelines.normalize.normalizer import NormalizeReport

DAY = dt.date(2026, 2, 1)
TIER = "customer_badge_detail.data.badgeTier"
RANK = "badge_meta.data.badgeRank"


def summary_of(normalized: NormalizeReport | None) -> NightSummary:
    plan = NightPlan(DAY, 1, 3, 3, {"badge_meta": 2}, {}, {}, 6.0)
    note = NightNote(DAY.isoformat(), customers=3, customers_fetched=3)
    return NightSummary.of(plan, ExtractReport(), note, normalized)


def test_warnings_and_drift_go_into_the_metadata_and_the_printed_summary():
    normalized = NormalizeReport(
        DAY,
        warnings=Counter({"badges.badge_rank: wrong type": 2, "badges.org_id: out of range": 1}),
        new_keys=Counter({TIER: 7}),
        wrong_types=Counter({RANK: 2}),
        drift_samples={TIER: '"GOLD"', RANK: '"high"'},
        carried={"badges": 4},
    )
    metadata = summary_of(normalized).as_metadata()
    assert metadata["warnings"] == {
        "badges.badge_rank: wrong type": 2,
        "badges.org_id: out of range": 1,
    }
    assert metadata["new_keys"] == {TIER: {"count": 7, "sample": '"GOLD"'}}
    assert metadata["wrong_types"] == {RANK: {"count": 2, "sample": '"high"'}}
    assert metadata["rows_carried"] == {"badges": 4}
    lines = NightSummary.from_metadata(metadata).describe()
    assert lines[-4:] == [
        "  normalizer warnings 3: badges.badge_rank: wrong type 2; badges.org_id: out of range 1",
        "  drift: 1 new key, 1 field with values of the wrong type "
        "(the values are in extra; see docs/drift.md)",
        f'    new key     {TIER}  in 7 rows, e.g. "GOLD"',
        f'    wrong type  {RANK}  in 2 rows, e.g. "high"',
    ]


def test_a_night_not_normalized_to_the_end_says_nothing_of_it():
    summary = summary_of(None)
    assert not {"warnings", "new_keys", "wrong_types"} & summary.as_metadata().keys()
    assert not any("drift:" in line or "warnings" in line for line in summary.describe())


def test_a_replay_prints_the_drift_its_lake_tables_recorded():
    tier = {TIER: {"count": 7, "sample": '"GOLD"'}}
    outcome = RunOutcome(
        DAY,
        "r1",
        published=True,
        metadata={
            "raw_api_responses": {"replayed_from_archive": True},
            "lake/badges": {"new_keys": {}, "wrong_types": {RANK: {"count": 2, "sample": "1"}}},
            "lake/customer_badge_details": {"new_keys": tier, "wrong_types": {}},
        },
        check_warnings=["lake/customer_badge_details no_new_keys: ..."],
    )
    lines = outcome.describe().splitlines()
    assert lines[1:6] == [
        "  rebuilt from the raw archive: no API call",
        "  drift: 1 new key, 1 field with values of the wrong type "
        "(the values are in extra; see docs/drift.md)",
        f'    new key     {TIER}  in 7 rows, e.g. "GOLD"',
        f"    wrong type  {RANK}  in 2 rows, e.g. 1",
        "  check warned: lake/customer_badge_details no_new_keys: ...",
    ]


def test_repeats_disagreements_and_coverage_go_into_the_metadata_and_the_summary():
    claims, twin = "badge_meta.data.ownership.claims[]", "badge_meta.data.startOnISO"
    earns = "customer_badge_detail.data.earnDetails.earns[]"
    normalized = NormalizeReport(
        DAY,
        repeats=Counter({claims: 2}),
        conflicts=Counter({claims: 1}),
        disagreements=Counter({twin: 1}),
        drift_samples={claims: '{"badge_id":"b1"}', twin: '"Ünïcødé"'},
        objects=Counter({earns: 4, "badge_meta.data": 3}),
        unmapped=Counter({earns: 4}),
        unmapped_keys={earns: {"id": 4, "state": 3}},
    )
    metadata = summary_of(normalized).as_metadata()
    assert metadata["repeats"] == {claims: {"count": 2, "sample": '{"badge_id":"b1"}'}}
    assert metadata["disagreements"] == {twin: {"count": 1, "sample": '"Ünïcødé"'}}
    assert metadata["coverage"][earns] == {
        "objects": 4,
        "unmapped": 4,
        "keys": {"id": 4, "state": 3},
    }
    lines = NightSummary.from_metadata(metadata).describe()
    assert lines[-7:] == [
        "  drift: none (the vendor sent nothing the contract does not know)",
        "  repeats and disagreements: 1 list with repeated entries (one row each), 1 list with "
        "a key repeated with other values (the other in extract_errors), 1 field whose second "
        "name or twin disagrees (kept in extra)",
        f'    repeat      {claims}  in 2 rows, e.g. {{"badge_id":"b1"}}',
        f'    conflict    {claims}  in 1 row, e.g. {{"badge_id":"b1"}}',
        f'    disagrees   {twin}  in 1 row, e.g. "Ünïcødé"',
        "  mapping coverage: 1 kind of object with objects that filled no typed column "
        "(their keys are in extra; see docs/drift.md)",
        f"    unmapped    {earns}  4 of 4 objects, keys: id 4, state 3",
    ]
