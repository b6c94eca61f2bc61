CREATE OR REPLACE TEMP TABLE _ledger_updates AS
-- land: one ledger update per job of a fetch batch (temp table _batch_arrow): the
-- outcome of its latest attempt, attempts summed over the batch, and whether anything
-- is left to fetch.
-- - A payload's verdict is its content's: a copy identical to a stored payload (same
--   job, same sha256) takes the stored one's verdict (_last_stored, _stored).
-- - outcome: `quarantined` when the latest attempt loaded a payload that can't be
--   understood (the reason goes to error_detail), else the fetch outcome.
-- - is_terminal (nothing left to fetch): a loaded job whose payload is terminal by the
--   core rule (core/jobs.sql, run over the batch's staged payloads: _staged_jobs); NULL
--   ("as before") for a copy of the last stored payload; not_found, forbidden and
--   invalid_id; never pending, failed or quarantined.
-- - loaded_at: the batch's last loaded fetch of the job, unless quarantined.
WITH verdicts AS (
    SELECT job_id, payload_sha256, quarantine_reason, NULL::BOOLEAN AS is_terminal
    FROM _last_stored
    UNION ALL
    SELECT stored.job_id, stored.payload_sha256, stored.quarantine_reason, staged.is_terminal
    FROM _stored AS stored
    LEFT JOIN _staged_jobs AS staged USING (payload_seq)
),

verdict_by_sha AS (
    SELECT job_id, payload_sha256, any_value(quarantine_reason) AS quarantine_reason,
           bool_or(quarantine_reason IS NOT NULL) AS is_quarantined,
           bool_or(is_terminal) AS is_terminal
    FROM verdicts
    GROUP BY job_id, payload_sha256
),

-- Per job of the batch: its last row (highest ordinal) stands; attempts add up. A
-- group-by and a join on ordinal, not windows: windows partitioned by job_id sort the
-- whole batch (0.15 s of 0.21 s per 100,000 jobs here).
per_job AS (
    SELECT
        job_id,
        max(ordinal) AS last_ordinal,
        sum(attempts) AS batch_attempts,
        max(fetched_at) FILTER (WHERE outcome = 'loaded') AS batch_loaded_at
    FROM _batch_arrow
    GROUP BY job_id
),

items AS (
    SELECT
        batch.* EXCLUDE (payload_text),  -- the bodies are not carried along
        batch.payload_text IS NULL AS has_no_body,
        per_job.batch_attempts,
        per_job.batch_loaded_at
    FROM per_job
    INNER JOIN _batch_arrow AS batch ON batch.ordinal = per_job.last_ordinal
),

cleaned AS (
    SELECT
        items.*,
        verdict_by_sha.is_terminal AS payload_is_terminal,
        CASE
            WHEN items.outcome <> 'loaded' THEN NULL
            WHEN items.has_no_body THEN 'loaded without a response body'
            WHEN verdict_by_sha.is_quarantined THEN verdict_by_sha.quarantine_reason
        END AS quarantine_reason
    FROM items
    LEFT JOIN verdict_by_sha USING (job_id, payload_sha256)
)

SELECT
    job_id,
    fetched_at AS last_attempt_at,
    batch_attempts AS attempts,
    CASE WHEN quarantine_reason IS NOT NULL THEN 'quarantined' ELSE outcome END AS outcome,
    http_status,
    error_code,
    coalesce(quarantine_reason, error_detail) AS error_detail,
    request_id,
    CASE
        WHEN quarantine_reason IS NOT NULL THEN false
        WHEN outcome = 'loaded' THEN payload_is_terminal
        ELSE outcome IN ('not_found', 'forbidden', 'invalid_id')
    END AS is_terminal,
    CASE WHEN quarantine_reason IS NULL THEN batch_loaded_at END AS loaded_at
FROM cleaned
