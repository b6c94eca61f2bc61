CREATE OR REPLACE TEMP TABLE _batch_ledger AS
-- land: the ledger rows of a fetch batch's jobs (temp table _batch_arrow) as they are
-- before the batch. Lookups by job_id filter on the batch's ledger_seq range first ($lo
-- and $hi, NULL when some item has no ledger_seq): zone maps skip the row groups the
-- batch doesn't touch, so per-batch work does not grow with history.
SELECT * FROM ops.job_ledger
WHERE ($lo IS NULL OR ledger_seq BETWEEN $lo AND $hi)
  AND job_id IN (SELECT job_id FROM _batch_arrow)
