"""Dagster assets: thin glue over `pipelines/` (API and steps) and `warehouse/` (SQL).

Asset keys mirror the warehouse tables they keep (`ops/job_ledger`,
`raw/job_payloads`, `core/jobs`, `marts/failure_rates`, …), so what the UI shows
is what SQL users query.
"""
