"""Extraction: customers in, every API response of a snapshot out to the raw archive."""

from pipelines.extract.customers import CustomerFileError, CustomerRef, load_customers
from pipelines.extract.incremental import previous_snapshot
from pipelines.extract.run import ReusePolicy, extract_to_archive
from pipelines.extract.snapshot import ExtractReport

__all__ = [
    "CustomerFileError",
    "CustomerRef",
    "ExtractReport",
    "ReusePolicy",
    "extract_to_archive",
    "load_customers",
    "previous_snapshot",
]
