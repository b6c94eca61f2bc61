CREATE OR REPLACE TEMP TABLE _known_ids AS
-- land: the IDs of temp table _ids already registered: the rows hash_hits.sql found, by
-- rowid, whose job_id is one of them.
SELECT job_id FROM ops.job_ledger
WHERE rowid IN (SELECT row_id FROM _hash_hits)
  AND job_id IN (SELECT job_id FROM _ids)
