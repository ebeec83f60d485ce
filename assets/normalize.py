"""The lake tables: the raw archive flattened into typed Parquet, one per contract table,
reported by the extract step that writes them (`assets.extract`)."""

from collections.abc import Iterator
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
)

from assets.catalog import COLUMN_SCHEMA, lake_schema, lake_table_metadata
from pipelines.lake import Lake
from pipelines.lake.iceberg import NightCommit
from pipelines.lake.tables import TABLES
from pipelines.normalize.coverage import mostly_unmapped
from pipelines.normalize.drift_report import (
    CoverageEntries,
    DriftEntries,
    coverage_entries,
    describe_drift,
    drift_entries,
)
from pipelines.normalize.record_rows import NormalizeReport

RAW_KEY = AssetKey("raw_api_responses")
NEW_KEYS_CHECK = "no_new_keys"
COVERAGE_CHECK = "objects_fill_columns"
# Tables built from API objects: what their objects hold beyond the contract is in `extra`.
FROM_OBJECTS = [name for name, table in TABLES.items() if "extra" in table.column_names]


def lake_key(table: str) -> AssetKey:
    return AssetKey(["lake", table])


LAKE_SPECS = [
    AssetSpec(
        lake_key(name),
        group_name="normalize",
        deps=[RAW_KEY],  # written in the extract step, from its answers as they arrive
        skippable=True,
        description=(
            f"Parquet, one row per {table.grain}, one partition per snapshot date; an Iceberg "
            f"table of namespace badges, one snapshot per night (docs/lake.md)."
        ),
        metadata={COLUMN_SCHEMA: lake_schema(table)},
    )
    for name, table in TABLES.items()
]
LAKE_CHECKS = [
    AssetCheckSpec(
        NEW_KEYS_CHECK,
        asset=lake_key(name),
        blocking=False,
        description="The vendor sent no key the contract does not know (docs/drift.md).",
    )
    for name in FROM_OBJECTS
] + [
    AssetCheckSpec(
        COVERAGE_CHECK,
        asset=lake_key(name),
        blocking=False,
        description="Most objects of each kind fill a typed column (docs/drift.md).",
    )
    for name in FROM_OBJECTS
]


def lake_results(
    context: AssetExecutionContext,
    report: NormalizeReport,
    lake: Lake,
    iceberg: NightCommit | None = None,
) -> Iterator[MaterializeResult]:
    """One materialization per lake table, with its rows, warnings, drift and Iceberg
    snapshot, and the `no_new_keys` check of the tables built from API objects."""
    if report.warnings:
        context.log.warning(f"normalizer warnings: {dict(report.warnings)}")
    if report.new_keys or report.wrong_types:
        context.log.warning("\n".join(describe_drift(*_drift(report))))
    for name in TABLES:
        warnings = {kind: count for kind, count in report.warnings.items() if _of_table(kind, name)}
        new_keys, wrong_types = _drift(report, name)
        samples = report.drift_samples
        coverage = coverage_entries(
            report.objects, report.unmapped, report.unmapped_keys, table=name
        )
        yield MaterializeResult(
            asset_key=lake_key(name),
            metadata={
                **lake_table_metadata(name, report.rows.get(name, 0)),
                "warnings": sum(warnings.values()),
                "warnings_by_kind": MetadataValue.json(warnings),
                "new_keys": MetadataValue.json(new_keys),
                "wrong_types": MetadataValue.json(wrong_types),
                **{
                    kind: MetadataValue.json(drift_entries(getattr(report, kind), samples, name))
                    for kind in ("repeats", "conflicts", "disagreements")
                },
                "coverage": MetadataValue.json(coverage),
                "path": str(lake.table_dir(name, report.snapshot_date)),
                **iceberg_metadata(iceberg, name),
            },
            check_results=(
                [_new_keys_result(name, new_keys), _coverage_result(name, coverage)]
                if name in FROM_OBJECTS
                else []
            ),
        )


def iceberg_metadata(iceberg: NightCommit | None, table: str) -> dict[str, object]:
    """The table's Iceberg snapshot of the night, when it was committed."""
    snapshot = iceberg.snapshots.get(table) if iceberg is not None else None
    if snapshot is None or snapshot.snapshot_id is None:
        return {}
    return {
        "iceberg_snapshot_id": str(snapshot.snapshot_id),
        "iceberg_table": f"badges.{table}",
        "iceberg_night_id": snapshot.night_id or "",
    }


def _of_table(warning: str, table: str) -> bool:
    """Warnings read `<table>.<column>: problem` or `<table>: problem`."""
    return warning.startswith((f"{table}.", f"{table}:"))


def _drift(report: NormalizeReport, table: str | None = None) -> tuple[DriftEntries, DriftEntries]:
    samples = report.drift_samples
    return (
        drift_entries(report.new_keys, samples, table),
        drift_entries(report.wrong_types, samples, table),
    )


def _new_keys_result(table: str, new_keys: DriftEntries) -> AssetCheckResult:
    named = "; ".join(
        f"{path} in {entry['count']:,} rows, e.g. {entry['sample']}"
        for path, entry in new_keys.items()
    )
    return _warning(
        table,
        NEW_KEYS_CHECK,
        f"the vendor sent keys the contract does not know: {named}" if new_keys else None,
        "every key the vendor sent is in the contract",
        {"new_keys": MetadataValue.json(new_keys)},
    )


def _coverage_result(table: str, coverage: CoverageEntries) -> AssetCheckResult:
    unfit = {
        path: entry
        for path, entry in coverage.items()
        if mostly_unmapped(entry["objects"], entry["unmapped"])
    }
    named = "; ".join(
        f"{path}: {entry['unmapped']:,} of {entry['objects']:,} objects, keys "
        + ", ".join(entry["keys"])
        for path, entry in unfit.items()
    )
    return _warning(
        table,
        COVERAGE_CHECK,
        f"most objects filled no typed column (their keys are in extra): {named}"
        if unfit
        else None,
        "most objects of each kind fill a typed column",
        {"coverage": MetadataValue.json(coverage)},
    )


def _warning(
    table: str, check_name: str, problem: str | None, fine: str, metadata: dict[str, Any]
) -> AssetCheckResult:
    """A lake table's non-blocking check: it warns with `problem`, else passes as `fine`."""
    return AssetCheckResult(
        asset_key=lake_key(table),
        check_name=check_name,
        passed=problem is None,
        severity=AssetCheckSeverity.WARN,
        description=problem or fine,
        metadata=metadata,
    )
