-- core.job_status_transitions: each consecutive pair of a job's events (the ordered list
-- from stg_payloads); the duration is the time spent in from_status. A job with n
-- events has n - 1 transitions.
WITH source AS (
    SELECT
        job_id,
        unnest(list_transform(range(1, len(events)), lambda i: {
            'transition_seq': i - 1,
            'from_status': events[i].status,
            'to_status': events[i + 1].status,
            'from_at': events[i].event_at,
            'to_at': events[i + 1].event_at
        })) AS pair
    FROM _core_source
)

SELECT
    job_id,
    pair.transition_seq::INTEGER AS transition_seq,
    pair.from_status AS from_status,
    pair.to_status AS to_status,
    pair.from_at AS from_at,
    pair.to_at AS to_at,
    seconds_between(pair.from_at, pair.to_at) AS duration_seconds
FROM source
