"""The normalizer: a snapshot's raw API responses -> typed Parquet tables of the contract."""

from pipelines.normalize.flatten import (
    flatten_badge_meta,
    flatten_customer_badge_detail,
    flatten_customer_badge_list,
    flatten_error,
)
from pipelines.normalize.snapshot import NormalizeReport, normalize_snapshot
from pipelines.normalize.timestamps import to_micros

__all__ = [
    "NormalizeReport",
    "flatten_badge_meta",
    "flatten_customer_badge_detail",
    "flatten_customer_badge_list",
    "flatten_error",
    "normalize_snapshot",
    "to_micros",
]
