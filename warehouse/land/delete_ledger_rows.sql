DELETE FROM ops.job_ledger
-- land: the ledger rows of the batch's jobs (temp table _ledger_updates), replaced by
-- insert_ledger_rows.sql (replaced, not updated: ledger_rows.sql says why). Filtered on
-- the batch's ledger_seq range first (batch_ledger.sql says why).
WHERE ($lo IS NULL OR ledger_seq BETWEEN $lo AND $hi)
  AND job_id IN (SELECT job_id FROM _ledger_updates)
