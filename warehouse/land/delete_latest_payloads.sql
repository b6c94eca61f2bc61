DELETE FROM raw.latest_payloads
-- land: the rows of the jobs the batch stored a payload for (temp table _stored), which
-- insert_latest_payloads.sql then puts back with their newest payload. Filtered on the
-- batch's ledger_seq range first (batch_ledger.sql says why).
WHERE ($lo IS NULL OR ledger_seq BETWEEN $lo AND $hi)
  AND job_id IN (SELECT job_id FROM _stored)
