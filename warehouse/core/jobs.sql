-- core.jobs: each job's latest state, from its current payload (temp view _core_source).
-- `status` is the canonical status of the last event (the top-level field can lag
-- behind it); with no events it is the top-level status. The top-level field is kept
-- as reported_status. The per-job event figures feed marts.job_durations/stuck_jobs.
WITH source AS (
    SELECT * EXCLUDE (events), n_events > 0 AS has_events
    FROM _core_source
),

cleaned AS (
    SELECT
        *,
        CASE WHEN has_events THEN last_event_status ELSE reported_status END AS final_status,
        CASE WHEN has_events THEN last_event_status_raw ELSE reported_status_raw END
            AS final_status_raw
    FROM source
)

SELECT
    job_id,
    organization_id,
    project_id,
    job_type,
    final_status AS status,
    final_status_raw AS status_raw,
    target_type,
    target_id,
    parent_id,
    created_at,
    updated_at,
    completed_at,
    is_terminal_status(final_status) AS is_terminal,
    error_code,
    error_message,
    job_payload AS payload,
    fetched_at,
    reported_status,
    reported_status_raw,
    results,
    CASE WHEN wrapped THEN 'cms' ELSE 'vision' END AS payload_shape,
    payload_seq,
    n_events,
    first_event_at,
    first_running_at,
    terminal_event_at,
    run_attempts,
    status_since
FROM cleaned
