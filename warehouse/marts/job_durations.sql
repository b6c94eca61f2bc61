-- marts.job_durations: phase durations per job (docs/api-contract.md, "Events, timestamps and durations").
-- queued = first RUNNING - first event; running = first terminal event - first RUNNING;
-- total = first terminal event - first event, or, with no events, completed_at (else
-- updated_at) - created_at for a terminal job. NULL wherever the events don't say.
-- The per-job event figures (first event, first RUNNING, first terminal event, entries
-- into RUNNING, count) are core.jobs columns, computed by the core models.
-- terminal_at, the end, is job_terminal_at (schema/macros.sql; marts.job_trees uses it too).
WITH source AS (
    SELECT
        job_id, job_type, project_id, status, is_terminal, created_at, updated_at,
        completed_at, n_events, first_event_at, first_running_at, terminal_event_at,
        run_attempts
    FROM core.jobs
),

final AS (
    SELECT
        job_id,
        job_type,
        project_id,
        status AS final_status,
        is_terminal,
        created_at,
        first_event_at,
        first_running_at,
        job_terminal_at(n_events, terminal_event_at, is_terminal, completed_at, updated_at)
            AS terminal_at,
        coalesce(run_attempts, 0)::INTEGER AS run_attempts,
        coalesce(n_events, 0)::INTEGER AS n_events,
        coalesce(first_event_at, created_at) AS started_from
    FROM source
)

SELECT
    job_id,
    job_type,
    project_id,
    final_status,
    is_terminal,
    created_at,
    seconds_between(first_event_at, first_running_at) AS queued_seconds,
    seconds_between(first_running_at, terminal_at) AS running_seconds,
    seconds_between(started_from, terminal_at) AS total_seconds,
    run_attempts,
    n_events,
    first_event_at,
    first_running_at,
    terminal_at
FROM final
