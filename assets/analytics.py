"""The analytics stage: the dbt project in `sql/`, each model an asset `analytics/<model>`,
built by `dbt build` in the night's staging warehouse before the publish.

Each model depends on the `warehouse/<table>` assets its `source()` calls name and on the
models its `ref()` calls name; its dbt tests are asset checks, and a failed error-severity
test blocks the publish like the contract checks do.
"""

import io
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
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
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from assets.catalog import COLUMN_SCHEMA, model_metadata, model_schema
from assets.progress import step_progress
from assets.snapshot_dates import daily_snapshots, snapshot_date_of
from assets.staging import building_staging
from pipelines.ops.dagster_private import known_dbt_version
from pipelines.ops.nightly import NIGHT_POOL
from pipelines.ops.resources import LakeResource
from pipelines.warehouse.dbt_project import (
    PROJECT_DIR,
    QUIET_DBT,
    dbt_environment,
    dbt_executable,
    ensure_manifest,
    model_sql,
    night_vars,
)
from pipelines.warehouse.dbt_sources import SNAPSHOT_INFO
from pipelines.warehouse.dbt_tests import test_description
from pipelines.warehouse.loader import staging_path

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


@contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Sets `variables` while the dbt process starts: it takes this process's environment."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


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
    """The models of the dbt project in `project_dir` as one step: `dbt build` of the night."""
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)
    cli = known_dbt_version(
        DbtCliResource(
            project_dir=project, profiles_dir=str(project_dir), dbt_executable=dbt_executable()
        )
    )

    @dbt_assets(
        manifest=ensure_manifest(project_dir),
        project=project,
        dagster_dbt_translator=WarehouseTranslator(),
        partitions_def=daily_snapshots,
        pool=NIGHT_POOL,
        name="analytics_models",
    )
    def _dbt_build(context: AssetExecutionContext, lake: LakeResource):
        snapshot_date = snapshot_date_of(context)
        staging = staging_path(lake.lake, snapshot_date)
        env = {**QUIET_DBT, **dbt_environment(staging, lake.lake)}
        target = lake.lake.staging_dir / f"dbt-{snapshot_date.isoformat()}"
        with (
            step_progress(context, "models"),
            building_staging(lake.lake, snapshot_date, "building the analytics models"),
        ):
            try:
                with _environment(env):
                    invocation = cli.cli(
                        ["build", "--vars", night_vars(snapshot_date)],
                        context=context,
                        raise_on_error=False,
                        target_path=target,
                    )
                # dbt holds the staging file until it exits; the metadata is read after.
                # Its log goes to the step's log, not to the console of `badges run`.
                with redirect_stdout(io.StringIO()) as dbt_log:
                    events = list(invocation.stream())
                context.log.info(dbt_log.getvalue())
            finally:
                shutil.rmtree(target, ignore_errors=True)
            yield from _with_model_metadata(context, events, staging, project_dir)
        if not invocation.is_successful():
            raise Failure(_failure_description(events, invocation.get_error()), allow_retries=False)

    # dbt_assets gives a daily-partitioned step a single-run backfill policy; the night's
    # other steps have none (one night per run), and a job mixing the two warns on each load.
    return AssetsDefinition.dagster_internal_init(
        **{**_dbt_build.get_attributes_dict(), "backfill_policy": None}
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
