"""`badges doctor`: checks the configuration, one line per check, and says what is wrong.

    ok   base URL answers: https://eu.api.capillarytech.com (HTTP 404)
    FAIL authentication (Basic): HTTP 401 for /api_gateway/v1/badges/customer/...

Exit code 0 only when every check passed. No secret is printed: every line goes through
`alerts.redact`, and the checks only ever describe credentials by their scheme.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from pipelines.client.settings import ApiSettings
from pipelines.extract.customers import CustomerRef, load_customers
from pipelines.lake import Lake
from pipelines.lake.datadir import data_dir_problem
from pipelines.lake.dbfiles import WarehouseBusyError, shared_lock
from pipelines.lake.engine import engine_settings
from pipelines.lake.iceberg import catalog_state
from pipelines.lake.mirror import bucket_state
from pipelines.lake.space import disk_space, estimate_need
from pipelines.ops.alerts import WEBHOOK_VARIABLE, redact, webhook_host
from pipelines.ops.freshness import stale_after_hours
from pipelines.ops.probe import DOCTOR_TUNING, Check, base_url_answers, probe_api
from pipelines.ops.settings import bucket_access, data_directory, engine_limits, iceberg_catalog
from pipelines.ops.source import SourceConfig, open_source


def dagster_instance() -> Check:
    home = os.environ.get("DAGSTER_HOME", "")
    try:
        from dagster import DagsterInstance

        DagsterInstance.get().dispose()
    except Exception as error:
        return Check(False, f"Dagster instance (DAGSTER_HOME={home}): {error}")
    return Check(True, f"Dagster instance: DAGSTER_HOME={home}")


def customers_file(path: str | None, for_sandbox: bool) -> tuple[Check, list[CustomerRef]]:
    if not path:
        if for_sandbox:
            return Check(True, "customers file: unset, the sandbox's own customers are used"), []
        return Check(False, "customers file: CAPILLARY_CUSTOMERS is not set"), []
    try:
        customers = load_customers(Path(path))
    except Exception as error:
        return Check(False, f"customers file: {error}"), []
    if not customers:
        return Check(False, f"customers file: {path} lists no customer"), []
    return Check(True, f"customers file: {path} ({len(customers):,} customers)"), customers


def data_dir_usable(lake: Lake) -> Check:
    """The same check a night makes before anything else (`lake.datadir`)."""
    problem = data_dir_problem(lake.root)
    if problem is not None:
        return Check(False, f"data dir writable: {problem}")
    return Check(True, f"data dir writable: {lake.root}")


def free_space(lake: Lake, customers: list[CustomerRef]) -> Check:
    """The data directory's free space against the next night's need, measured on the file
    system it lives on, or will."""
    if data_dir_problem(lake.root) is not None:
        return Check(None, f"disk space: {lake.root} cannot be used (see above)")
    space = disk_space(lake, estimate_need(lake, len(customers) or None))
    if space.short:
        return Check(False, f"disk space: only {space.describe()}")
    return Check(True, f"disk space: {space.describe()}")


def warehouse_not_held(lake: Lake) -> Check:
    label = "no other process holds the warehouse for writing"
    if not lake.warehouse_path.exists():
        return Check(True, f"{label}: {lake.warehouse_path} does not exist yet")
    try:
        with shared_lock(lake.warehouse_path):
            pass
    except WarehouseBusyError as error:
        return Check(False, f"{label}: {error}")
    return Check(True, f"{label}: {lake.warehouse_path}")


def warehouse_build_settings(lake: Lake, environ: Mapping[str, str]) -> Check:
    try:
        settings = engine_settings(replace(lake, engine=engine_limits(environ)))
    except ValueError as error:
        return Check(False, f"warehouse build: {error}")
    return Check(
        True,
        f"warehouse build: DuckDB within {settings.memory_limit} on {settings.threads} "
        f"threads, spilling to {settings.temp_directory}",
    )


def bucket_reachable(lake: Lake, environ: Mapping[str, str]) -> Check:
    state = bucket_state(lake, bucket_access(environ))
    if state is None:
        return Check(True, "bucket: BADGES_BUCKET_URL unset, the data directory is everything")
    return Check(*state)


def catalog_answers(lake: Lake, environ: Mapping[str, str]) -> Check:
    answers, said, snapshots = catalog_state(iceberg_catalog(lake, bucket_access(environ)))
    if not answers or snapshots is None:
        return Check(answers, f"iceberg catalog: {said}")
    committed = [s for s in snapshots if s.snapshot_id is not None]
    newest = max((s.snapshot_date or "" for s in committed), default="") or "none yet"
    return Check(
        True,
        f"iceberg catalog: {said} answers, {len(committed)} of {len(snapshots)} tables "
        f"committed, newest night {newest}",
    )


def alert_settings(environ: Mapping[str, str]) -> Check:
    try:
        hours = stale_after_hours(environ)
    except ValueError as error:
        return Check(False, f"alerts: {error}")
    webhook = environ.get(WEBHOOK_VARIABLE, "")
    if not webhook:
        return Check(
            True, f"alerts: only logged ({WEBHOOK_VARIABLE} unset), stale after {hours:g} h"
        )
    if not webhook.startswith(("http://", "https://")):
        return Check(False, f"alerts: {WEBHOOK_VARIABLE} is not an http(s) URL")
    return Check(True, f"alerts: posted to {webhook_host(webhook)}, stale after {hours:g} h")


def _api_settings(environ: Mapping[str, str]) -> tuple[Check, ApiSettings | None]:
    try:
        settings = ApiSettings(
            base_url=environ["CAPILLARY_BASE_URL"],
            username=environ.get("CAPILLARY_USERNAME"),
            password=environ.get("CAPILLARY_PASSWORD"),
            client_key=environ.get("CAPILLARY_CLIENT_KEY"),
            client_secret=environ.get("CAPILLARY_CLIENT_SECRET"),
            tuning=DOCTOR_TUNING,
        )
    except ValueError as error:
        return Check(False, f"credentials: {error}"), None
    schemes = " and ".join(
        name
        for name, present in (("Basic", settings.username), ("OAuth", settings.client_key))
        if present
    )
    return Check(True, f"credentials: {schemes} configured"), settings


def checks(environ: Mapping[str, str] = os.environ) -> Iterator[Check]:
    """Every check in turn, each yielded as soon as it is done."""
    lake = data_directory(environ)
    yield dagster_instance()
    yield data_dir_usable(lake)
    yield warehouse_not_held(lake)
    yield warehouse_build_settings(lake, environ)
    yield bucket_reachable(lake, environ)
    yield catalog_answers(lake, environ)
    yield alert_settings(environ)
    base_url = environ.get("CAPILLARY_BASE_URL")
    listed, customers = customers_file(environ.get("CAPILLARY_CUSTOMERS"), not base_url)
    yield listed
    yield free_space(lake, customers)
    if base_url:
        yield base_url_answers(base_url)
        found, settings = _api_settings(environ)
        yield found
        if settings is not None:
            yield from probe_api(settings, customers[0] if customers else None)
        return
    yield from _sandbox_checks(environ.get("CAPILLARY_CUSTOMERS"), customers)


def _sandbox_checks(customers_path: str | None, customers: list[CustomerRef]) -> Iterator[Check]:
    label = "CAPILLARY_BASE_URL unset: the embedded sandbox is used"
    with ExitStack() as stack:
        try:
            source = stack.enter_context(
                # a broken customers file was reported above: the sandbox's own list will do
                open_source(
                    SourceConfig(
                        customers_file=customers_path if customers else None,
                        tuning=DOCTOR_TUNING,
                    )
                )
            )
        except Exception as error:
            yield Check(False, f"{label}, but it does not start: {error}")
            return
        yield Check(True, f"{label}; it starts and answers at {source.settings.base_url}")
        first = (customers or source.customers or [None])[0]
        yield from probe_api(source.settings, first)


def main() -> int:
    failed = 0
    for check in checks():
        print(redact(check.line), flush=True)
        failed += check.passed is False
    print("every check passed" if not failed else f"{failed} check(s) FAILED")
    return 0 if not failed else 1
