"""Kinds and owner of every asset, so the UI's catalog can filter by storage and team.

Given in one place, from each asset's key, rather than in every decorator: a new asset under
lake/ or warehouse/ gets its kinds without anyone remembering to add them."""

from __future__ import annotations

from collections.abc import Iterable

from dagster import AssetsDefinition, AssetSpec, map_asset_specs

OWNER = "team:data-platform"
# The storage each asset writes to: the raw archive and the lake are Parquet files (the
# lake's tables Iceberg tables too), the warehouse and its models DuckDB, the bucket S3
# (the report is HTML read from DuckDB).
KINDS_BY_ASSET = {
    "raw_api_responses": {"parquet"},
    "published_warehouse": {"duckdb"},
    "bucket_restore": {"s3"},
    "bucket_copy": {"s3"},
    "local_retention": {"parquet", "iceberg"},
    "earn_report": {"duckdb", "html"},
}
KINDS_BY_PREFIX = {
    "lake": {"parquet", "iceberg"},
    "warehouse": {"duckdb"},
    "analytics": {"duckdb"},
    "history": {"duckdb"},
}


def kinds_of(spec: AssetSpec) -> set[str]:
    """The storage kinds of the asset `spec` describes (empty when unknown)."""
    path = spec.key.path
    return KINDS_BY_ASSET.get(path[-1], set()) | KINDS_BY_PREFIX.get(path[0], set())


def with_catalog_attributes(assets: Iterable[AssetsDefinition]) -> list[AssetsDefinition]:
    """`assets` with their kinds and the owning team added to what their decorators say."""
    return list(
        map_asset_specs(
            lambda spec: spec.merge_attributes(kinds=kinds_of(spec), owners=[OWNER]), assets
        )
    )
