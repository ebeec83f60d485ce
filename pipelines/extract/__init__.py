"""Extraction: customers in, every API response of a snapshot out to the raw archive."""

from pipelines.extract.customers import CustomerFileError, CustomerRef, load_customers
from pipelines.extract.incremental import previous_snapshot
from pipelines.extract.night import NightOptions, prepare_night
from pipelines.extract.report import ExtractReport
from pipelines.extract.run import extract_to_archive, run_night

__all__ = [
    "CustomerFileError",
    "CustomerRef",
    "ExtractReport",
    "NightOptions",
    "extract_to_archive",
    "load_customers",
    "prepare_night",
    "previous_snapshot",
    "run_night",
]
