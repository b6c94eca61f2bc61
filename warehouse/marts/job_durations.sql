-- marts.job_durations: phase durations per job (design.md, "Events and durations").
-- queued = first RUNNING - first event; running = first terminal event - first RUNNING;
-- total = first terminal event - first event, or, with no events, completed_at (else
-- updated_at) - created_at for a terminal job. NULL wherever the events don't say.
WITH source AS (
    SELECT job_id, event_seq, status, event_at FROM core.job_events
),

cleaned AS (
    SELECT
        job_id,
        status,
        event_at,
        lag(status) OVER (PARTITION BY job_id ORDER BY event_seq) AS previous_status
    FROM source
),

per_job AS (
    SELECT
        job_id,
        min(event_at) AS first_event_at,
        min(event_at) FILTER (WHERE status = 'RUNNING') AS first_running_at,
        min(event_at) FILTER (WHERE is_terminal_status(status)) AS terminal_event_at,
        count(*) FILTER (
            WHERE status = 'RUNNING' AND previous_status IS DISTINCT FROM 'RUNNING'
        ) AS run_attempts,
        count(*) AS n_events
    FROM cleaned
    GROUP BY job_id
),

final AS (
    SELECT
        jobs.job_id,
        jobs.job_type,
        jobs.project_id,
        jobs.status AS final_status,
        jobs.is_terminal,
        jobs.created_at,
        per_job.first_event_at,
        per_job.first_running_at,
        CASE
            WHEN per_job.job_id IS NOT NULL THEN per_job.terminal_event_at
            WHEN jobs.is_terminal THEN coalesce(jobs.completed_at, jobs.updated_at)
        END AS terminal_at,
        coalesce(per_job.run_attempts, 0)::INTEGER AS run_attempts,
        coalesce(per_job.n_events, 0)::INTEGER AS n_events,
        coalesce(per_job.first_event_at, jobs.created_at) AS started_from
    FROM core.jobs AS jobs
    LEFT JOIN per_job USING (job_id)
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
