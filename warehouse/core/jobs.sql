-- core.jobs: each job's latest state, from its current payload (temp view _core_source).
-- Terminal means finished: a job is terminal when its top-level status or its last
-- event is terminal (an `events` array cut short must not keep a finished job in
-- flight, fetched again by every run). `status` is then that terminal status, the
-- top-level one first when both are terminal and disagree; otherwise the last event's
-- (the top-level field can lag behind the events), or the top-level one without
-- events. The top-level field is kept as reported_status; the status_disagrees check
-- reports every job whose top-level status and last event differ. The per-job event
-- figures feed marts.job_durations/stuck_jobs.
WITH source AS (
    SELECT * EXCLUDE (events), n_events > 0 AS has_events
    FROM _core_source
),

-- The top-level status stands when there are no events, or when it is terminal and the
-- last event says otherwise; else the last event's (spelling included).
cleaned AS (
    SELECT
        *,
        NOT has_events OR (is_terminal_status(reported_status)
                           AND reported_status IS DISTINCT FROM last_event_status)
            AS top_level_stands
    FROM source
),

final AS (
    SELECT
        *,
        CASE WHEN top_level_stands THEN reported_status ELSE last_event_status END
            AS final_status,
        CASE WHEN top_level_stands THEN reported_status_raw ELSE last_event_status_raw END
            AS final_status_raw
    FROM cleaned
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
    -- = is_terminal_status(final_status), by the rule above (job_is_terminal, applied
    -- in stg_payloads)
    is_terminal,
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
    terminal_at,
    run_attempts,
    failed_attempts,
    status_since
FROM final
