-- core.job_status_transitions: each consecutive pair of a job's events; the duration is
-- the time spent in from_status. A job with n events has n - 1 transitions.
WITH source AS (
    SELECT job_id, event_seq, status, event_at FROM _core_events
),

paired AS (
    SELECT
        job_id,
        event_seq AS transition_seq,
        status AS from_status,
        lead(status) OVER w AS to_status,
        event_at AS from_at,
        lead(event_at) OVER w AS to_at,
        lead(event_seq) OVER w AS next_seq
    FROM source
    WINDOW w AS (PARTITION BY job_id ORDER BY event_seq)
)

SELECT
    job_id,
    transition_seq,
    from_status,
    to_status,
    from_at,
    to_at,
    seconds_between(from_at, to_at) AS duration_seconds
FROM paired
WHERE next_seq IS NOT NULL
