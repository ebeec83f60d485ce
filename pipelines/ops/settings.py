"""The settings: every variable of the environment the project reads, read here, once.

The edge (the code location's resources, the CLI, the doctor) loads them into plain
values and passes them down: below the wiring nothing reads the environment (the
crash-point switch of `lake.failpoints` aside). A malformed value is refused with its
variable named. The API's variables (`CAPILLARY_*`) are the API resource's fields
(`ops.resources`), resolved by Dagster per run so a secret never lands in run config.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from pipelines.extract.gate import DEFAULT_MAX_FAILED_SHARE, parse_share
from pipelines.lake.iceberg_catalog import CATALOG_NAME, CatalogConfig, embedded_catalog
from pipelines.lake.layout import (
    DEFAULT_DATA_DIR,
    DEFAULT_MEMORY_LIMIT,
    EngineLimits,
    Lake,
    usable_cores,
)
from pipelines.lake.objectstore import BucketAccess
from pipelines.night.options import DEFAULT_NIGHT_HOURS, NightOptions
from pipelines.night.retention import DEFAULT_KEEP_NIGHTS

DATA_DIR_VARIABLE = "BADGES_DATA_DIR"
BUCKET_VARIABLE = "BADGES_BUCKET_URL"
MEMORY_LIMIT_VARIABLE = "BADGES_DUCKDB_MEMORY_LIMIT"
THREADS_VARIABLE = "BADGES_DUCKDB_THREADS"
WORKERS_VARIABLE = "BADGES_NORMALIZE_WORKERS"
NIGHT_HOURS_VARIABLE = "BADGES_NIGHT_HOURS"
MAX_FAILED_SHARE_VARIABLE = "BADGES_MAX_FAILED_SHARE"
CHECKPOINT_VARIABLE = "BADGES_CHECKPOINT_SECONDS"
KEEP_NIGHTS_VARIABLE = "BADGES_KEEP_NIGHTS"
ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL"
SECRET_VARIABLES = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID")
_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)


def lake_settings(environ: Mapping[str, str] = os.environ) -> Lake:
    """The lake of `BADGES_DATA_DIR` and `BADGES_BUCKET_URL`, under the engines' limits."""
    return replace(data_directory(environ), engine=engine_limits(environ))


def data_directory(environ: Mapping[str, str] = os.environ) -> Lake:
    """The lake of `BADGES_DATA_DIR` and `BADGES_BUCKET_URL`, under default limits."""
    root = environ.get(DATA_DIR_VARIABLE) or DEFAULT_DATA_DIR
    return Lake(Path(root).resolve(), environ.get(BUCKET_VARIABLE) or None)


def engine_limits(environ: Mapping[str, str] = os.environ) -> EngineLimits:
    """`BADGES_DUCKDB_MEMORY_LIMIT` (default 2GiB), `BADGES_DUCKDB_THREADS` and
    `BADGES_NORMALIZE_WORKERS` (default: the usable cores)."""
    memory_limit = environ.get(MEMORY_LIMIT_VARIABLE) or DEFAULT_MEMORY_LIMIT
    if not _SIZE.match(memory_limit):
        raise ValueError(
            f"{MEMORY_LIMIT_VARIABLE} must be a size such as 2GiB or 1500MB, got {memory_limit!r}"
        )
    return EngineLimits(
        memory_limit.strip(),
        _whole(environ, THREADS_VARIABLE),
        _whole(environ, WORKERS_VARIABLE),
    )


def _whole(environ: Mapping[str, str], variable: str) -> int:
    text = environ.get(variable) or str(usable_cores())
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError(f"{variable} must be a whole number of at least 1, got {text!r}")
    return int(text)


def bucket_access(environ: Mapping[str, str] = os.environ) -> BucketAccess:
    """`AWS_ENDPOINT_URL`, `AWS_REGION` (or `AWS_DEFAULT_REGION`) and the credential values
    to keep out of messages."""
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    secrets = tuple(environ[name] for name in SECRET_VARIABLES if environ.get(name))
    return BucketAccess(environ.get(ENDPOINT_VARIABLE) or None, region or None, secrets)


def iceberg_catalog(lake: Lake, access: BucketAccess | None = None) -> CatalogConfig:
    """The Iceberg catalog named `badges` as pyiceberg configures it (`.pyiceberg.yaml` in
    `PYICEBERG_HOME`, the home or the working directory; `PYICEBERG_CATALOG__BADGES__*`),
    else the embedded SQLite catalog of the data directory (files in the bucket, if any)."""
    from pyiceberg.utils.config import Config

    configured = Config().get_catalog_config(CATALOG_NAME)
    if not configured:
        return embedded_catalog(lake, access)
    properties = {str(k): str(v) for k, v in configured.items() if not isinstance(v, dict)}
    local = properties.get("warehouse", "").startswith(("file:", "/"))
    return CatalogConfig(CATALOG_NAME, properties, embedded=False, local_warehouse=local)


def night_options(
    night_hours: float | None = None,
    max_failed_share: float | None = None,
    environ: Mapping[str, str] = os.environ,
    **given: Any,
) -> NightOptions:
    """Options as given, the rest from `BADGES_NIGHT_HOURS`, `BADGES_MAX_FAILED_SHARE`,
    `BADGES_CHECKPOINT_SECONDS` or the defaults."""
    if night_hours is None:
        text = environ.get(NIGHT_HOURS_VARIABLE)
        night_hours = float(text) if text else DEFAULT_NIGHT_HOURS
    if max_failed_share is None:
        max_failed_share = max_failed_share_from_env(environ)
    if night_hours <= 0:
        raise ValueError(f"{NIGHT_HOURS_VARIABLE}: the night must last more than 0 hours")
    if "checkpoint_seconds" not in given and environ.get(CHECKPOINT_VARIABLE):
        given["checkpoint_seconds"] = float(environ[CHECKPOINT_VARIABLE])
    return NightOptions(night_hours=night_hours, max_failed_share=max_failed_share, **given)


def max_failed_share_from_env(environ: Mapping[str, str] = os.environ) -> float:
    text = environ.get(MAX_FAILED_SHARE_VARIABLE)
    if not text:
        return DEFAULT_MAX_FAILED_SHARE
    return parse_share(text, MAX_FAILED_SHARE_VARIABLE)


def keep_nights_option(given: int | None = None, environ: Mapping[str, str] = os.environ) -> int:
    """Nights to keep: as given, else `BADGES_KEEP_NIGHTS`, else the default (14)."""
    source = "keep_nights"
    if given is None:
        text = environ.get(KEEP_NIGHTS_VARIABLE, "").strip()
        if not text:
            return DEFAULT_KEEP_NIGHTS
        source = KEEP_NIGHTS_VARIABLE
        try:
            given = int(text)
        except ValueError:
            raise ValueError(f"{source}: {text!r} is not a whole number of nights") from None
    if given < 0:
        raise ValueError(f"{source}: {given} must be 0 (keep every night) or more")
    return given
