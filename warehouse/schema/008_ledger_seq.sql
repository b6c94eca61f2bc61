-- Schema version 8: a numeric key that lets a batch's lookups skip what it doesn't touch.
-- DuckDB keeps only an 8-byte prefix of a text column's min/max per row group (`job_01KD`
-- for every group), so no lookup by job_id can skip a row group. ledger_seq numbers each
-- ID at registration in fetch order (requested_at, job_id); IDs are fetched in that
-- order, so a batch's jobs hold a narrow ledger_seq range, and its ledger and
-- raw.latest_payloads lookups filter on that range first (zone maps skip the rest).
ALTER TABLE ops.job_ledger ADD COLUMN ledger_seq BIGINT;  -- extra: registration order

UPDATE ops.job_ledger AS ledger SET ledger_seq = numbered.ledger_seq
FROM (
    SELECT job_id, row_number() OVER (ORDER BY requested_at, job_id) AS ledger_seq
    FROM ops.job_ledger
) AS numbered
WHERE ledger.job_id = numbered.job_id;

ALTER TABLE raw.latest_payloads ADD COLUMN ledger_seq BIGINT;  -- the job's ops.job_ledger.ledger_seq

UPDATE raw.latest_payloads AS latest SET ledger_seq = ledger.ledger_seq
FROM ops.job_ledger AS ledger
WHERE latest.job_id = ledger.job_id;

-- Parents named by a batch can be anywhere in the ledger (or new). id_hash (the low 64
-- bits of md5(job_id): stable across DuckDB versions, unlike hash()) lets "which of
-- these IDs are registered?" scan one integer column and then read the few rows it
-- hits by rowid, instead of comparing every row's job_id text. (Not an index: DuckDB
-- refuses ALTER TABLE on a table with one, and migrations add columns.)
ALTER TABLE ops.job_ledger ADD COLUMN id_hash UBIGINT;  -- extra: md5_number_lower(job_id)

UPDATE ops.job_ledger SET id_hash = md5_number_lower(job_id);
