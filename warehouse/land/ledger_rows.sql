CREATE OR REPLACE TEMP TABLE _ledger_rows AS
-- land: the new ledger rows of a batch's jobs (temp table _ledger_updates merged into
-- their current rows). The rows are then replaced (delete + insert) rather than updated
-- in place: DuckDB's UPDATE/MERGE of many rows is far slower (8-17 s per 100,000 rows
-- here). `ledger.* REPLACE` carries every other column, whatever it is, across.
-- A result for an ID never registered gets source `unregistered`, requested now, and
-- the next ledger_seq (_batch_keys). The batch's current rows are in _batch_ledger.
SELECT ledger.* REPLACE (
    updates.job_id AS job_id,
    CASE WHEN ledger.job_id IS NULL THEN 'unregistered' ELSE ledger.source END AS source,
    CASE WHEN ledger.job_id IS NULL THEN updates.last_attempt_at
         ELSE ledger.requested_at END AS requested_at,
    CASE WHEN ledger.job_id IS NULL THEN updates.last_attempt_at
         ELSE ledger.last_requested_at END AS last_requested_at,
    updates.last_attempt_at AS last_attempt_at,
    coalesce(ledger.attempts, 0) + updates.attempts AS attempts,
    updates.outcome AS outcome,
    updates.http_status AS http_status,
    updates.error_code AS error_code,
    updates.error_detail AS error_detail,
    updates.request_id AS request_id,
    -- NULL: a copy of the payload the ledger already judged.
    coalesce(updates.is_terminal, ledger.is_terminal, false) AS is_terminal,
    coalesce(updates.loaded_at, ledger.loaded_at) AS loaded_at,
    keys.ledger_seq AS ledger_seq,
    coalesce(ledger.id_hash, id_hash(updates.job_id)) AS id_hash
)
FROM _ledger_updates AS updates
INNER JOIN _batch_keys AS keys ON keys.job_id = updates.job_id
LEFT JOIN _batch_ledger AS ledger ON ledger.job_id = updates.job_id
