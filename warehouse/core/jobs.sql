-- core.jobs: each job's latest state, from its current payload. `status` is the
-- canonical status of the last event (the top-level field can lag behind it); with no
-- events it is the top-level status. The top-level field is kept as reported_status.
WITH source AS (
    SELECT payloads.*
    FROM _stg_payloads AS payloads
    INNER JOIN _current USING (job_id, payload_seq)
),

last_events AS (
    SELECT
        job_id,
        arg_max(status, event_seq) AS status,
        arg_max(status_raw, event_seq) AS status_raw
    FROM _core_events
    GROUP BY job_id
),

cleaned AS (
    SELECT
        source.*,
        last_events.job_id IS NOT NULL AS has_events,
        last_events.status AS last_event_status,
        last_events.status_raw AS last_event_status_raw
    FROM source
    LEFT JOIN last_events USING (job_id)
)

SELECT
    job_id,
    organization_id,
    project_id,
    job_type,
    CASE WHEN has_events THEN last_event_status ELSE reported_status END AS status,
    CASE WHEN has_events THEN last_event_status_raw ELSE reported_status_raw END AS status_raw,
    target_type,
    target_id,
    parent_id,
    created_at,
    updated_at,
    completed_at,
    is_terminal_status(
        CASE WHEN has_events THEN last_event_status ELSE reported_status END
    ) AS is_terminal,
    error_code,
    error_message,
    job_payload AS payload,
    fetched_at,
    reported_status,
    reported_status_raw,
    results,
    CASE WHEN wrapped THEN 'cms' ELSE 'vision' END AS payload_shape,
    payload_seq
FROM cleaned
