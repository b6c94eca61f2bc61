"""Dagster assets and their checks: thin glue over `pipelines/services/` (intake, fetch,
the report), `pipelines/bedrock/` (the API) and `warehouse/` (SQL), one file per group.

Asset keys mirror the warehouse tables they keep (`ops/job_ledger`, `raw/job_payloads`,
`core/jobs`, one `marts/<name>` per mart), and their descriptions, column schemas,
previews and checks come from the table registry (`warehouse/*/tables.yml`), so what the
UI shows is what SQL users query.
"""
