CREATE OR REPLACE TEMP TABLE _batch_keys AS
-- land: each batch job's ledger_seq: its ledger row's (temp table _batch_ledger), or,
-- for an ID never registered, the next numbers after the ledger's, in job_id order.
WITH jobs AS (
    SELECT DISTINCT job_id FROM _batch_arrow
),

unknown AS (
    SELECT job_id FROM jobs ANTI JOIN _batch_ledger USING (job_id)
),

base AS (
    -- The last ledger_seq handed out. Numbers only grow and the batch's known rows are
    -- in the ledger, so only rows from their lowest number on are read (zone maps skip
    -- the rest): the lookup does not grow with the ledger.
    SELECT coalesce(max(ledger_seq), 0) AS last_seq FROM ops.job_ledger
    WHERE ledger_seq >= coalesce((SELECT min(ledger_seq) FROM _batch_ledger), 0)
)

SELECT job_id, ledger_seq FROM _batch_ledger
UNION ALL
SELECT unknown.job_id, base.last_seq + row_number() OVER (ORDER BY unknown.job_id)
FROM unknown CROSS JOIN base
