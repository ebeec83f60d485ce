"""The asset catalog: column schemas, row counts and previews from a real nightly run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import duckdb
import pyarrow.parquet as pq
import pytest
from dagster import AssetKey, ExecuteInProcessResult

from assets.analytics import analytics_key, analytics_models
from assets.catalog import COLUMN_SCHEMA, PARTITION_ROW_COUNT, PREVIEW_ROWS, ROW_COUNT
from assets.extract import raw_api_responses
from assets.normalize import lake_key
from assets.warehouse import warehouse_key
from pipelines.lake.tables import BADGE_EARNS, TABLES
from pipelines.sandbox import generate_org
from pipelines.warehouse.dbt_project import model_docs, model_names
from pipelines.warehouse.ddl import duckdb_type
from pipelines.warehouse.docs import HISTORY_COLUMNS
from pipelines.warehouse.history import EVENT_TABLES, VERSIONED_TABLES
from tests.e2e.conftest import Pipeline, start_pipeline, today

TYPE_NAMES = {"TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ"}


@pytest.fixture(scope="module")
def nightly(tmp_path_factory) -> Iterator[tuple[Pipeline, ExecuteInProcessResult]]:
    """One sandbox org synced once; every test of the module reads the same run."""
    org = generate_org(customers=40, badges=24, seed=11, as_of=today())
    for pipeline in start_pipeline(tmp_path_factory.mktemp("catalog"), org):
        result = pipeline.run()
        assert result.success
        yield pipeline, result


def metadata_of(result: ExecuteInProcessResult, key: AssetKey) -> dict:
    events = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
    assert len(events) == 1, key
    return events[0].materialization.metadata


def columns_of(metadata: dict) -> list[tuple[str, str, str | None]]:
    return [(c.name, c.type, c.description) for c in metadata[COLUMN_SCHEMA].schema.columns]


def described(pipeline: Pipeline, schema: str, table: str) -> list[tuple[str, str]]:
    rows = pipeline.query(
        "SELECT column_name, data_type FROM information_schema.columns "
        f"WHERE table_schema = '{schema}' AND table_name = '{table}' ORDER BY ordinal_position"
    )
    return [(name, TYPE_NAMES.get(type_, type_)) for name, type_ in rows]


def count(pipeline: Pipeline, table: str) -> int:
    return pipeline.query(f"SELECT count(*) FROM {table}")[0][0]


def test_badge_earns_carries_the_contract_schema_and_its_row_count(nightly):
    pipeline, result = nightly
    metadata = metadata_of(result, warehouse_key("badge_earns"))

    expected = [(c.name, duckdb_type(c), c.description) for c in BADGE_EARNS.columns]
    assert columns_of(metadata) == expected
    assert [(n, t) for n, t, _ in expected] == described(pipeline, "main", "badge_earns")
    rows = count(pipeline, "main.badge_earns")
    assert rows > 0
    assert metadata[ROW_COUNT].value == rows == metadata["rows"].value


def test_every_contract_table_counts_its_rows(nightly):
    pipeline, result = nightly
    for name, table in TABLES.items():
        metadata = metadata_of(result, warehouse_key(name))
        assert metadata[ROW_COUNT].value == count(pipeline, f"main.{name}"), name
        assert [c[0] for c in columns_of(metadata)] == table.column_names


def test_every_model_carries_its_yaml_columns_typed_as_built_and_its_first_rows(nightly):
    pipeline, result = nightly
    definitions = {key: spec.metadata for key, spec in analytics_models.specs_by_key.items()}
    for model in model_names():
        key = analytics_key(model)
        metadata = metadata_of(result, key)
        header = {column: meaning for column, (_, meaning) in model_docs()[model].columns.items()}
        built = described(pipeline, "analytics", model)
        assert columns_of(metadata) == [(n, t, header[n]) for n, t in built], model
        assert metadata[ROW_COUNT].value == count(pipeline, f"analytics.{model}"), model
        assert definitions[key][COLUMN_SCHEMA] == metadata[COLUMN_SCHEMA].schema, model
        preview = [record.data for record in metadata["preview"].records]
        first = pipeline.query(f"SELECT * FROM analytics.{model} LIMIT {PREVIEW_ROWS}")
        assert (
            len(preview) == len(first) == min(PREVIEW_ROWS, count(pipeline, f"analytics.{model}"))
        )
        assert [list(record) for record in preview] == [[n for n, _ in built]] * len(preview)


def test_a_model_preview_holds_the_model_first_rows(nightly):
    pipeline, result = nightly
    funnel = metadata_of(result, analytics_key("badge_funnel"))
    names = [name for name, _ in described(pipeline, "analytics", "badge_funnel")]
    first = pipeline.query(f"SELECT * FROM analytics.badge_funnel LIMIT {PREVIEW_ROWS}")
    assert len(first) == PREVIEW_ROWS
    assert [r.data for r in funnel["preview"].records] == [
        dict(zip(names, row, strict=True)) for row in first
    ]

    expiring = metadata_of(result, analytics_key("expiring_badges"))
    first = pipeline.query(
        "SELECT earn_id, snapshot_date, earn_expires_at, days_until_expiry "
        f"FROM analytics.expiring_badges LIMIT {PREVIEW_ROWS}"
    )
    assert first, "the sandbox org should have earns expiring within 30 days"
    shown = [
        (
            r.data["earn_id"],
            r.data["snapshot_date"],
            r.data["earn_expires_at"],
            r.data["days_until_expiry"],
        )
        for r in expiring["preview"].records
    ]
    assert shown == [(e, d.isoformat(), at.isoformat(), n) for e, d, at, n in first]
    assert all(isinstance(at, dt.datetime) for _, _, at, _ in first)


def test_history_tables_carry_row_counts_and_their_columns(nightly):
    pipeline, result = nightly
    metadata = metadata_of(result, AssetKey(["history", "snapshots"]))
    for name in [*VERSIONED_TABLES, *EVENT_TABLES]:
        assert metadata[f"history.{name}"].value == count(pipeline, f"history.{name}"), name
        columns = metadata[f"history.{name} columns"].schema.columns
        assert [(c.name, c.type) for c in columns] == described(pipeline, "history", name)
        meanings = {c.name: c.description for c in TABLES[name].columns} | HISTORY_COLUMNS
        assert [c.description for c in columns] == [meanings[c.name] for c in columns]
    assert count(pipeline, "history.badge_earns") > 0


def test_lake_tables_carry_their_parquet_schema_and_partition_rows(nightly):
    pipeline, result = nightly
    metadata = metadata_of(result, lake_key("badge_earns"))
    files = sorted(pipeline.lake.table_dir("badge_earns", today()).glob("*.parquet"))
    with duckdb.connect() as con:
        (rows,) = con.execute(
            f"SELECT count(*) FROM read_parquet({[str(f) for f in files]})"
        ).fetchone()
    assert metadata[PARTITION_ROW_COUNT].value == rows == metadata["rows"].value
    declared = raw_api_responses.specs_by_key[lake_key("badge_earns")].metadata[COLUMN_SCHEMA]
    assert declared == metadata[COLUMN_SCHEMA].schema
    written = pq.read_schema(files[0])
    assert [(c.name, c.type.removesuffix(" (JSON)")) for c in declared.columns] == [
        (field.name, str(field.type)) for field in written
    ]
    assert [c.description for c in declared.columns] == [c.description for c in BADGE_EARNS.columns]


def test_the_published_warehouse_lists_every_table_with_its_rows(nightly):
    pipeline, result = nightly
    tables = metadata_of(result, AssetKey("published_warehouse"))["tables"].value
    for schema, table in pipeline.query(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN ('main', 'analytics', 'history')"
    ):
        assert f"| `{schema}.{table}` | {count(pipeline, f'{schema}.{table}'):,} |" in tables
