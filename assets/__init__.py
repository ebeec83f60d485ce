"""Dagster assets of the nightly snapshot, grouped by stage: extract, normalize, warehouse,
analytics. Each one is thin: it calls the plain-Python core in `pipelines`."""
