-- core.job_events: the events of each job's current payload (temp view _core_source),
-- already ordered by time with ties in array order and exact duplicates (same
-- canonical status, same instant) dropped by stg_payloads; event_seq is the position.
WITH source AS (
    SELECT
        job_id,
        unnest(events) AS event,
        generate_subscripts(events, 1) AS position
    FROM _core_source
)

SELECT
    job_id,
    (position - 1)::INTEGER AS event_seq,
    event.status AS status,
    event.status_raw AS status_raw,
    event.event_at AS event_at
FROM source
