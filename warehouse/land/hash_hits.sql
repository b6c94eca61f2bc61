CREATE OR REPLACE TEMP TABLE _hash_hits AS
-- land: the IDs of temp table _ids already registered, in two steps that never compare
-- every row's job_id text: here the rows whose id_hash matches (one integer column),
-- then those rows by rowid (known_ids.sql).
SELECT rowid AS row_id FROM ops.job_ledger
WHERE id_hash IN (SELECT id_hash(job_id) FROM _ids)
