"""The whole path over HTTP: sandbox -> raw archive -> Parquet lake -> DuckDB warehouse."""

from __future__ import annotations

import datetime as dt

import pyarrow.parquet as pq

from pipelines.lake import Lake
from pipelines.lake.source_record import SourceIdentity, recorded_source
from pipelines.lake.tables import TABLES
from pipelines.normalize.normalizer import normalize_snapshot
from pipelines.normalize.report_record import streamed_normalization
from tests.e2e.conftest import Pipeline, today


def _micros(value: dt.datetime | None) -> int | None:
    if value is None:
        return None
    return round((value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).total_seconds() * 1e6)


def test_warehouse_matches_the_sandbox_truth(pipeline: Pipeline):
    result = pipeline.run()
    assert result.success

    expected = pipeline.org.expected_row_counts()
    counts = pipeline.row_counts()
    assert {t: counts[t] for t in expected} == expected
    assert counts["extract_errors"] == 0
    assert min(expected.values()) > 0  # every table exercised

    # every check passed
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks), [c.check_name for c in checks if not c.passed]

    # Parquet lake: one partition per table, typed timestamps
    earns_file = next(pipeline.lake.table_dir("badge_earns", today()).glob("*.parquet"))
    assert str(pq.read_schema(earns_file).field("earned_at").type) == "timestamp[us, tz=UTC]"

    # analytics models built and published with the snapshot
    assert pipeline.query("SELECT snapshot_date FROM main.snapshot_info") == [(today(),)]
    earns_total = pipeline.query("SELECT sum(earns) FROM analytics.earns_daily")[0][0]
    assert earns_total == expected["badge_earns"]


def test_sample_rows_equal_the_sandbox_field_by_field(pipeline: Pipeline):
    assert pipeline.run().success
    org = pipeline.org
    pairs = sorted(org.listed_pairs())
    with_earns = [p for p in pairs if org.earns(*p)]
    with_issuals = [p for p in pairs if org.issuals(*p)]
    assert with_earns and with_issuals

    customer_id, badge_id = with_earns[0]
    for earn in org.earns(customer_id, badge_id):
        row = pipeline.query(
            "SELECT customer_id, badge_id, earned_at, earn_event_at, earn_expires_at, "
            f"earn_status, issue_id FROM main.badge_earns WHERE earn_id = '{earn.earn_id}'"
        )
        assert len(row) == 1
        got = row[0]
        assert got[:2] == (customer_id, badge_id)
        assert [_micros(v) for v in got[2:5]] == [earn.earned_us, earn.event_us, earn.expires_us]
        assert got[5:] == (earn.status, earn.issue_id)

    customer_id, badge_id = with_issuals[-1]
    for issual in org.issuals(customer_id, badge_id):
        row = pipeline.query(
            "SELECT issued_at, issued_status, revoked_at, owner_type, owner_reference_id "
            f"FROM main.badge_issuals WHERE issue_id = '{issual.issue_id}'"
        )
        assert len(row) == 1
        issued_at, status, revoked_at, owner_type, owner_reference_id = row[0]
        assert (status, owner_type, owner_reference_id) == (
            issual.status,
            issual.owner_type,
            issual.owner_reference_id,
        )
        assert (_micros(issued_at), _micros(revoked_at)) == (issual.issued_us, issual.revoked_us)

    badge = org.badges[badge_id]
    name, is_active = pipeline.query(
        f"SELECT name, is_active FROM main.badges WHERE badge_id = '{badge_id}'"
    )[0]
    assert (name, is_active) == (badge.name, badge.active)


def test_second_run_of_the_same_date_replaces_the_snapshot(pipeline: Pipeline):
    assert pipeline.run().success
    first = pipeline.row_counts()
    # The first night claimed the data directory for its source, by host and user only.
    assert recorded_source(pipeline.lake) == SourceIdentity(
        "127.0.0.1", f"user {pipeline.credentials.username}"
    )
    assert pipeline.credentials.password not in pipeline.lake.source_record_path.read_text()
    assert pipeline.run().success
    assert pipeline.row_counts() == first
    parts = list(pipeline.lake.table_dir("customer_badges", today()).glob("*.parquet"))
    assert len(parts) == 1


def test_unknown_customer_is_recorded_and_every_other_customer_loads(pipeline: Pipeline):
    with pipeline.customers_csv.open("a") as handle:
        handle.write("999999999,id\n")
    result = pipeline.run()
    assert result.success

    errors = pipeline.query(
        "SELECT endpoint, customer_id, http_status, error_code, attempts FROM main.extract_errors"
    )
    assert errors and {e[1] for e in errors} == {"999999999"}
    assert {(e[0], e[3], e[4]) for e in errors} == {("customer_badges", "1026", 1)}
    assert len(errors) == 4  # one failed call per list type, none retried

    expected = pipeline.org.expected_row_counts()
    counts = pipeline.row_counts()
    assert {t: counts[t] for t in expected} == expected


def test_every_contract_table_has_snapshot_date_and_extra_where_required(pipeline: Pipeline):
    assert pipeline.run().success
    for name, table in TABLES.items():
        columns = dict(
            pipeline.query(
                "SELECT column_name, data_type FROM information_schema.columns "
                f"WHERE table_schema = 'main' AND table_name = '{name}'"
            )
        )
        assert columns["snapshot_date"] == "DATE"
        for column in table.columns:
            if column.name.endswith("_at"):
                assert columns[column.name] == "TIMESTAMP WITH TIME ZONE", (name, column.name)
            if column.json:
                assert columns[column.name] == "JSON"


def test_the_lake_written_while_extracting_equals_normalizing_the_archive(pipeline: Pipeline):
    result = pipeline.run()
    assert result.success
    # the night recorded the lake it wrote while extracting
    assert streamed_normalization(pipeline.lake.raw_dir(today()), result.run_id) is not None

    replayed = Lake(pipeline.lake.root.parent / "replayed")
    normalize_snapshot(pipeline.lake.raw_dir(today()), replayed, today())
    for name in TABLES:
        streamed = pq.read_table(pipeline.lake.table_dir(name, today()))
        again = pq.read_table(replayed.table_dir(name, today()))
        assert streamed.num_rows == again.num_rows, name
        assert streamed.sort_by([(c, "ascending") for c in TABLES[name].key]).equals(
            again.sort_by([(c, "ascending") for c in TABLES[name].key])
        ), name
