"""The dbt project builds the models of a real night: the same rows as the SQL runner it
replaced, every dbt test an asset check, and a duplicated key keeps the night unpublished.

The night is the committed raw archive of a sandbox night (tests/fixtures/night/raw),
replayed without API calls; `models_before_dbt.json` holds what the SQL runner built from
it (rows and a digest of the sorted rows of every model), recorded before it was removed.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckSeverity, AssetKey, materialize

from assets.analytics import analytics_key, analytics_models, dbt_model_assets
from pipelines.lake import Lake
from pipelines.ops.resources import BucketResource, LakeResource
from pipelines.sandbox import generate_org
from pipelines.warehouse.dbt_project import PROJECT_DIR, model_names
from pipelines.warehouse.publish import published_snapshot
from tests.e2e.conftest import ALL_ASSETS, Pipeline, start_pipeline, today
from tests.nights import instance_offering

FIXTURE = Path(__file__).parents[1] / "fixtures" / "night"
BEFORE = json.loads((FIXTURE / "models_before_dbt.json").read_text())
NIGHT = dt.date.fromisoformat(BEFORE["snapshot_date"])
REPLAY = {"ops": {"raw_api_responses": {"config": {"replay": True}}}}
# Rows and an order-independent digest of a model: the md5 of its rows as text, sorted.
DIGEST = (
    "SELECT count(*), md5(coalesce(string_agg(CAST(m AS VARCHAR), chr(10) "
    "ORDER BY CAST(m AS VARCHAR)), '')) FROM analytics.{} AS m"
)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator[Pipeline]:
    """A sandbox for the API resource; a replay asks it nothing."""
    org = generate_org(customers=4, badges=3, seed=11, as_of=today())
    yield from start_pipeline(tmp_path_factory.mktemp("sandbox"), org)


def replay_night(pipeline: Pipeline, root: Path, assets=ALL_ASSETS):
    lake = Lake(root / "data")
    shutil.copytree(FIXTURE / "raw", lake.raw_dir(NIGHT))
    result = materialize(
        assets,
        partition_key=NIGHT.isoformat(),
        resources={
            "capillary_api": pipeline.api(),
            "lake": LakeResource(data_dir=str(lake.root)),
            "bucket": BucketResource(),
        },
        run_config=REPLAY,
        instance=instance_offering(NIGHT),
        raise_on_error=False,
    )
    return lake, result


@pytest.fixture(scope="module")
def replayed(sandbox, tmp_path_factory):
    return replay_night(sandbox, tmp_path_factory.mktemp("replayed"))


def test_every_model_has_the_rows_the_sql_runner_built(replayed) -> None:
    lake, result = replayed
    assert result.success
    assert published_snapshot(lake) == NIGHT
    with duckdb.connect(str(lake.warehouse_path), read_only=True) as con:
        after = {m: list(con.execute(DIGEST.format(m)).fetchone()) for m in model_names()}
    assert after == BEFORE["models"]
    assert sum(rows for rows, _ in after.values()) > 400


def test_every_dbt_test_ran_as_a_passing_asset_check(replayed) -> None:
    _, result = replayed
    evaluations = result.get_asset_check_evaluations()
    by_model = {}
    for evaluation in evaluations:
        if evaluation.asset_key.path[0] == "analytics":
            by_model.setdefault(evaluation.asset_key.path[-1], []).append(evaluation)
    assert sorted(by_model) == model_names()
    assert all(e.passed for checks in by_model.values() for e in checks)
    names = {e.check_name for e in by_model["earns_daily"]}
    assert "unique_key_earns_daily_day__badge_id" in names
    assert "relationships_earns_daily_badge_id__badge_id__source_main_badge_earns_" in names
    expected = set(analytics_models.check_keys)
    assert {e.asset_check_key for checks in by_model.values() for e in checks} == expected


def test_model_materializations_carry_rows_columns_and_sql(replayed) -> None:
    _, result = replayed
    funnel = [
        e.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.asset_key == analytics_key("badge_funnel")
    ]
    assert len(funnel) == 1
    assert funnel[0]["rows"].value == BEFORE["models"]["badge_funnel"][0]
    assert "{{ ref('badge_catalog') }}" in funnel[0]["sql"].value


def tampered_project(root: Path) -> Path:
    """A copy of the dbt project whose earns_daily repeats its first row."""
    project = root / "sql"
    shutil.copytree(PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    model = project / "earns_daily.sql"
    select = model.read_text().replace("ORDER BY day, e.badge_id", "")
    model.write_text(
        f"WITH earns AS (\n{select}\n)\n"
        "SELECT * FROM earns UNION ALL (SELECT * FROM earns ORDER BY day LIMIT 1)\n"
    )
    return project


def test_a_duplicated_model_key_fails_its_test_and_the_night_is_not_published(
    sandbox, tmp_path
) -> None:
    tampered = dbt_model_assets(tampered_project(tmp_path))
    assets = [tampered if a is analytics_models else a for a in ALL_ASSETS]
    lake, result = replay_night(sandbox, tmp_path, assets)

    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [(e.asset_key, e.check_name, e.severity) for e in failed] == [
        (
            analytics_key("earns_daily"),
            "unique_key_earns_daily_day__badge_id",
            AssetCheckSeverity.ERROR,
        )
    ]
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert AssetKey("published_warehouse") not in materialized
    assert analytics_key("badge_catalog") in materialized
    assert published_snapshot(lake) is None
    assert not lake.warehouse_path.exists()
