-- Staging: the verdict on each payload in _stg_payloads: NULL when it can be
-- understood, else the first reason to quarantine it (job-level, then event-level).
WITH source AS (
    SELECT payload_seq, job_quarantine_reason FROM _stg_payloads
),

event_problems AS (
    SELECT
        payload_seq,
        arg_min(
            CASE
                WHEN status_raw IS NULL AND timestamp_raw IS NULL
                    THEN 'event ' || array_index || ' has no status and no timestamp'
                WHEN status_raw IS NULL THEN 'event ' || array_index || ' has no status'
                WHEN timestamp_raw IS NULL THEN 'event ' || array_index || ' has no timestamp'
                ELSE 'unparseable event timestamp: ' || timestamp_raw
            END,
            array_index
        ) AS event_reason
    FROM _stg_events
    WHERE status_raw IS NULL OR event_at IS NULL
    GROUP BY payload_seq
)

SELECT
    source.payload_seq,
    coalesce(source.job_quarantine_reason, event_problems.event_reason) AS quarantine_reason
FROM source
LEFT JOIN event_problems USING (payload_seq)
