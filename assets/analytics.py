"""The analytics stage: one asset per SQL model in `sql/`, built in the staging warehouse.

Dependencies come from the SQL itself (`main.<table>`, `analytics.<model>`), so the asset
graph follows the queries."""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from assets.catalog import COLUMN_SCHEMA, declared_model_types, model_metadata, model_schema
from assets.extract import snapshot_date_of
from assets.partitions import daily_snapshots
from assets.staging import building_staging
from pipelines.lake.tables import TABLES
from pipelines.ops.nightly import NIGHT_POOL
from pipelines.ops.resources import LakeResource
from pipelines.warehouse.loader import open_staging
from pipelines.warehouse.models import (
    build_model,
    model_dependencies,
    model_header,
    model_names,
    model_sql,
)


def analytics_key(model: str) -> AssetKey:
    return AssetKey(["analytics", model])


def _dependency_keys(model: str) -> list[AssetKey]:
    """Models and contract tables the SQL reads; main.snapshot_info comes with every load."""
    keys = []
    for reference in model_dependencies(model):
        schema, name = reference.split(".", 1)
        if schema == "analytics":
            keys.append(analytics_key(name))
        elif name in TABLES:
            keys.append(AssetKey(["warehouse", name]))
    return sorted(keys or [AssetKey(["warehouse", "badges"])])


def _model_asset(model: str) -> AssetsDefinition:
    @asset(
        key=analytics_key(model),
        pool=NIGHT_POOL,
        group_name="analytics",
        partitions_def=daily_snapshots,
        deps=_dependency_keys(model),
        description=f"analytics.{model}: {model_header(model).summary} Built from sql/{model}.sql.",
        metadata={COLUMN_SCHEMA: model_schema(model, declared_model_types().get(model, {}))},
    )
    def _build(context: AssetExecutionContext, lake: LakeResource) -> MaterializeResult:
        snapshot_date = snapshot_date_of(context)
        with (
            building_staging(lake.lake, snapshot_date, f"building analytics.{model}"),
            open_staging(lake.lake, snapshot_date) as con,
        ):
            rows = build_model(con, model)
            metadata = model_metadata(con, model, rows)
        sql = MetadataValue.md(f"```sql\n{model_sql(model)}\n```")
        return MaterializeResult(metadata=metadata | {"sql": sql})

    return _build


def analytics_model_assets() -> list[AssetsDefinition]:
    return [_model_asset(model) for model in model_names()]
