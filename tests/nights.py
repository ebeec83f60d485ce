"""A Dagster instance that offers the snapshot dates a test materializes."""

from __future__ import annotations

import datetime as dt

from dagster import DagsterInstance

from assets.snapshot_dates import offer_nights


def instance_offering(*dates: dt.date, instance: DagsterInstance | None = None) -> DagsterInstance:
    """`instance` (default: a new ephemeral one) with `dates` among its snapshot dates."""
    instance = instance or DagsterInstance.ephemeral()
    offer_nights(instance, dates)
    return instance
