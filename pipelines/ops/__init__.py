"""Operations: being told when a night fails or the warehouse goes stale, and finding out why.

Plain Python, importable without Dagster: `alerts` (the webhook poster and alert texts),
`freshness` (the published snapshot and when it goes stale), `liveness` (is a run's process
alive), `nightly` (the job's name and schedule), `status` (the `badges status` report) and
`doctor` with `probe` (the `badges doctor` checks). Dagster wiring: `runs` (reading the
instance), `launcher` (the run launcher with a worker health check) and `sensors`.
"""
