-- core.job_events: the events of each job's current payload, ordered by time with ties
-- in array order; exact duplicates (same canonical status, same instant) count once.
WITH source AS (
    SELECT events.job_id, events.array_index, events.status, events.status_raw, events.event_at
    FROM _stg_events AS events
    INNER JOIN _current USING (job_id, payload_seq)
),

cleaned AS (
    SELECT *
    FROM source
    QUALIFY row_number() OVER (PARTITION BY job_id, status, event_at ORDER BY array_index) = 1
)

SELECT
    job_id,
    (row_number() OVER (PARTITION BY job_id ORDER BY event_at, array_index) - 1)::INTEGER
        AS event_seq,
    status,
    status_raw,
    event_at
FROM cleaned
