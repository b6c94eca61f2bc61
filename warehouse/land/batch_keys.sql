-- land: each batch job's ledger_seq: its ledger row's (temp table _batch_ledger), or,
-- for an ID never registered, the next numbers after the ledger's, in job_id order.
WITH jobs AS (
    SELECT DISTINCT job_id FROM _batch_arrow
),

unknown AS (
    SELECT job_id FROM jobs ANTI JOIN _batch_ledger USING (job_id)
),

base AS (
    SELECT coalesce(max(ledger_seq), 0) AS last_seq FROM ops.job_ledger
)

SELECT job_id, ledger_seq FROM _batch_ledger
UNION ALL
SELECT unknown.job_id, base.last_seq + row_number() OVER (ORDER BY unknown.job_id)
FROM unknown CROSS JOIN base
