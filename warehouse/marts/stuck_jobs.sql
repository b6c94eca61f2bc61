-- marts.stuck_jobs: non-terminal jobs that have been in their current status longer
-- than threshold_seconds = max(floor, p99 of the time finished jobs of the same type
-- spent in that status). Parameters: $now (TIMESTAMPTZ), $floor_seconds (DOUBLE).
-- status_since is the first event of the trailing run of the current status (core.jobs
-- column, computed with the job's events), else created_at, then updated_at.
WITH history AS (
    SELECT
        jobs.job_type,
        transitions.from_status AS status,
        quantile_cont(transitions.duration_seconds, 0.99) AS p99_seconds
    FROM core.job_status_transitions AS transitions
    INNER JOIN core.jobs AS jobs USING (job_id)
    WHERE jobs.is_terminal
    GROUP BY ALL
),

open_jobs AS (
    SELECT job_id, job_type, status, status_since, created_at, updated_at
    FROM core.jobs
    WHERE NOT is_terminal
),

cleaned AS (
    SELECT
        open_jobs.job_id,
        open_jobs.job_type,
        open_jobs.status,
        coalesce(open_jobs.status_since, open_jobs.created_at, open_jobs.updated_at)
            AS status_since,
        greatest($floor_seconds, coalesce(history.p99_seconds, $floor_seconds))
            AS threshold_seconds
    FROM open_jobs
    LEFT JOIN history
        ON history.job_type IS NOT DISTINCT FROM open_jobs.job_type
        AND history.status IS NOT DISTINCT FROM open_jobs.status
),

final AS (
    SELECT *, seconds_between(status_since, $now) AS age_seconds
    FROM cleaned
)

SELECT job_id, job_type, status, status_since, age_seconds, threshold_seconds
FROM final
WHERE age_seconds > threshold_seconds
