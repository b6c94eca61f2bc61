CREATE OR REPLACE TEMP TABLE _last_stored AS
-- land: the sha256 and verdict of each batch job's last stored payload, from the one row
-- per job in raw.latest_payloads (never raw.job_payloads), filtered on the batch's
-- ledger_seq range first (batch_ledger.sql says why).
SELECT job_id, payload_seq, payload_sha256, quarantine_reason
FROM raw.latest_payloads
WHERE ($lo IS NULL OR ledger_seq BETWEEN $lo AND $hi)
  AND job_id IN (SELECT job_id FROM _batch_arrow WHERE payload_text IS NOT NULL)
