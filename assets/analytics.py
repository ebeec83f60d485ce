"""The analytics stage: the dbt project in `sql/`, each model an asset `analytics/<model>`,
built by `dbt build` in the night's staging warehouse before the publish.

Each model depends on the `warehouse/<table>` assets its `source()` calls name and on the
models its `ref()` calls name; its dbt tests are asset checks, and a failed error-severity
test blocks the publish like the contract checks do.
"""

import logging
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb
from dagster import (
    AssetCheckEvaluation,
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    Failure,
    MetadataValue,
    Output,
)
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtProject,
    dbt_assets,
)
from dagster_dbt.asset_utils import DBT_INDIRECT_SELECTION_ENV, get_subset_selection_for_context
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

from assets.catalog import COLUMN_SCHEMA, model_metadata, model_schema
from assets.progress import step_progress
from assets.snapshot_dates import daily_snapshots, snapshot_date_of
from assets.staging import building_staging
from pipelines.lake import Lake
from pipelines.ops.nightly import NIGHT_POOL
from pipelines.ops.resources import LakeResource
from pipelines.warehouse import dbt_runner
from pipelines.warehouse.dbt_project import PROJECT_DIR, dbt_environment, ensure_manifest, model_sql
from pipelines.warehouse.dbt_sources import SNAPSHOT_INFO
from pipelines.warehouse.dbt_tests import test_description
from pipelines.warehouse.loader import staging_path

progress_log = logging.getLogger("badges.progress")

SNAPSHOT_INFO_KEY = AssetKey(["warehouse", SNAPSHOT_INFO])


def analytics_key(model: str) -> AssetKey:
    return AssetKey(["analytics", model])


class WarehouseTranslator(DagsterDbtTranslator):
    """Models are `analytics/<model>`, sources the `warehouse/<table>` assets that load them."""

    def __init__(self) -> None:
        super().__init__(DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey(["warehouse", dbt_resource_props["name"]])
        return analytics_key(dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str:
        return "analytics"

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        metadata = dict(super().get_metadata(dbt_resource_props))
        if dbt_resource_props["resource_type"] == "model":
            metadata[COLUMN_SCHEMA] = model_schema(dbt_resource_props["name"])
        return metadata

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> AssetSpec:
        # main.snapshot_info is written by the same load as every contract table: it is
        # not an asset of its own, and the models' deps on the tables they read say enough.
        spec = super().get_asset_spec(manifest, unique_id, project)
        deps = [dep for dep in spec.deps if dep.asset_key != SNAPSHOT_INFO_KEY]
        return spec.replace_attributes(deps=deps)

    def get_asset_check_spec(
        self,
        asset_spec: AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return spec._replace(description=test_description(manifest["nodes"][unique_id]))


def _with_model_metadata(
    context: AssetExecutionContext, events: list[Any], staging: Path, project_dir: Path
) -> Iterator[Any]:
    """The models' outputs with rows, schema and first rows read once dbt has exited."""
    with duckdb.connect(str(staging), read_only=True) as con:
        for event in events:
            if isinstance(event, Output):
                model = context.asset_key_for_output(event.output_name).path[-1]
                sql = MetadataValue.md(f"```sql\n{model_sql(model, project_dir)}\n```")
                yield event.with_metadata(
                    {**event.metadata, **model_metadata(con, model), "sql": sql}
                )
            else:
                yield event


def dbt_model_assets(project_dir: Path = PROJECT_DIR) -> AssetsDefinition:
    """The models of the dbt project in `project_dir` as one step: `dbt build` of the night,
    in this process over the manifest parsed once (see `pipelines.warehouse.dbt_runner`)."""
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)
    manifest_path = ensure_manifest(project_dir)
    translator = WarehouseTranslator()

    @dbt_assets(
        manifest=manifest_path,
        project=project,
        dagster_dbt_translator=translator,
        partitions_def=daily_snapshots,
        pool=NIGHT_POOL,
        name="analytics_models",
    )
    def _dbt_build(context: AssetExecutionContext, lake: LakeResource):
        snapshot_date = snapshot_date_of(context)
        staging = staging_path(lake.lake, snapshot_date)
        with (
            step_progress(context, "models"),
            building_staging(lake.lake, snapshot_date, "building the analytics models"),
        ):
            build, events = _build_night(context, lake.lake, staging, translator, project)
            yield from _with_model_metadata(context, events, staging, project_dir)
        if not build.success:
            raise Failure(_failure_description(events, build.error), allow_retries=False)

    # dbt_assets gives a daily-partitioned step a single-run backfill policy; the night's
    # other steps have none (one night per run), and a job mixing the two warns on each load.
    return AssetsDefinition.dagster_internal_init(
        **{**_dbt_build.get_attributes_dict(), "backfill_policy": None}
    )


def _build_night(
    context: AssetExecutionContext,
    lake: Lake,
    staging: Path,
    translator: DagsterDbtTranslator,
    project: DbtProject,
) -> tuple[dbt_runner.Build, list[Any]]:
    """`dbt build` of the models and checks the run selected, into the night's staging
    file; the build and its events as Dagster's."""
    project_dir = Path(project.project_dir)
    snapshot_date = snapshot_date_of(context)
    # The selection as dagster-dbt gives it to a dbt process: all, or the run's subset.
    selection, indirect = get_subset_selection_for_context(
        context,
        dbt_runner.prepare(project_dir).manifest_json,
        None,
        None,
        None,
        translator,
        os.environ.get(DBT_INDIRECT_SELECTION_ENV),
    )
    environment = dbt_environment(staging, lake)
    if indirect:
        environment[DBT_INDIRECT_SELECTION_ENV] = indirect
    target = lake.staging_dir / f"dbt-{snapshot_date.isoformat()}"
    try:
        build = dbt_runner.build(
            staging,
            snapshot_date,
            target,
            environment=environment,
            on_result=lambda result: progress_log.info(result.line()),
            selection=selection,
            project_dir=project_dir,
        )
        events = list(_dagster_events(context, build, translator, target, project))
    finally:
        shutil.rmtree(target, ignore_errors=True)
    context.log.info(
        f"dbt build: {len(build.results)} models and tests in {build.seconds:.2f} s "
        f"({build.sql_seconds:.2f} s of SQL)"
    )
    return build, events


def _dagster_events(
    context: AssetExecutionContext,
    build: dbt_runner.Build,
    translator: DagsterDbtTranslator,
    target: Path,
    project: DbtProject,
) -> Iterator[Any]:
    """dbt's events as Dagster's, as dagster-dbt turns a dbt process's log lines into them:
    an output per model built, a check result per test."""
    manifest = dbt_runner.prepare(Path(project.project_dir)).manifest_json
    for raw in build.events:
        message = DbtCoreCliEventMessage(raw_event=raw, event_history_metadata={})
        if message.is_result_event:
            context.log.info(str(message))
        yield from message.to_default_asset_events(
            manifest=manifest,
            dagster_dbt_translator=translator,
            context=context,
            target_path=target,
            project=project,
        )


def _failure_description(events: list[Any], error: Exception | None) -> str:
    failed = [
        f"{e.asset_key.to_user_string()}: {e.check_name}"
        for e in events
        if isinstance(e, AssetCheckResult | AssetCheckEvaluation) and not e.passed
    ]
    tests = f": tests failed: {', '.join(failed)}" if failed else ""
    return f"dbt build failed{tests}\n{error or ''}".rstrip()


analytics_models = dbt_model_assets()
