-- Staging: the events of every payload in _stg_payloads, one row per array element,
-- with its position in the array (ties in time keep array order) and parsed time (UTC).
WITH source AS (
    SELECT
        job_id,
        payload_seq,
        unnest(events) AS event,
        generate_subscripts(events, 1) AS array_index
    FROM _stg_payloads
    WHERE job_quarantine_reason IS NULL
),

cleaned AS (
    SELECT
        job_id,
        payload_seq,
        array_index,
        event.status AS status_raw,
        event.timestamp AS timestamp_raw,
        TRY_CAST(event.timestamp AS TIMESTAMPTZ) AS event_at
    FROM source
)

SELECT
    job_id,
    payload_seq,
    array_index,
    status_raw,
    canonical_status(status_raw) AS status,
    timestamp_raw,
    event_at
FROM cleaned
