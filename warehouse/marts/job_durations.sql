-- marts.job_durations: phase durations per job (docs/api-contract.md, "A job's end and its
-- durations"). The end, terminal_at, is core.jobs.terminal_at (the macro job_end,
-- schema/macros.sql): NULL for an open job.
-- queued = first RUNNING - first event; running = end - first RUNNING; total = end - first
-- event (created_at when there are no events). Each is NULL where the events don't say or
-- the timestamps contradict each other (elapsed_seconds): never negative, and queued and
-- running never exceed total (no RUNNING event lies after the end).
-- The per-job event figures are core.jobs columns, computed by the core models.
WITH source AS (
    SELECT
        job_id, job_type, project_id, status, is_terminal, created_at, n_events,
        first_event_at, first_running_at, terminal_at, run_attempts, failed_attempts
    FROM core.jobs
),

final AS (
    SELECT
        *,
        job_started_at(first_event_at, created_at) AS started_from
    FROM source
)

SELECT
    job_id,
    job_type,
    project_id,
    status AS final_status,
    is_terminal,
    created_at,
    elapsed_seconds(first_event_at, first_running_at) AS queued_seconds,
    elapsed_seconds(first_running_at, terminal_at) AS running_seconds,
    elapsed_seconds(started_from, terminal_at) AS total_seconds,
    coalesce(run_attempts, 0)::INTEGER AS run_attempts,
    coalesce(failed_attempts, 0)::INTEGER AS failed_attempts,
    coalesce(n_events, 0)::INTEGER AS n_events,
    first_event_at,
    first_running_at,
    terminal_at
FROM final
