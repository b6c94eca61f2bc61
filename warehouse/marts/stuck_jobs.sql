-- marts.stuck_jobs: non-terminal jobs that had been in their current status longer than
-- threshold_seconds = max(floor, p99 of the time finished jobs of the same type spent in
-- that status) when they were last seen. Parameters: $now (TIMESTAMPTZ), $floor_seconds
-- (DOUBLE).
-- status_since is the first event of the trailing run of the current status (core.jobs
-- column, computed with the job's events), else created_at, then updated_at.
-- A job's age runs from status_since to its last successful fetch, last_fetched_at
-- (ops.job_ledger.loaded_at, else core.jobs.fetched_at), or to $now if that is earlier (a
-- refresh as of a past moment): time we could not look is not time stuck, so a fetch
-- outage never makes a job stuck. Whether in-flight data is too old to judge at all is
-- the rule of queries/in_flight_fetch.sql, which the check and the alerts read.
WITH open_jobs AS (
    SELECT
        jobs.job_id,
        jobs.job_type,
        jobs.status,
        coalesce(jobs.status_since, jobs.created_at, jobs.updated_at) AS status_since,
        coalesce(ledger.loaded_at, jobs.fetched_at) AS last_fetched_at
    FROM core.jobs AS jobs
    LEFT JOIN ops.job_ledger AS ledger USING (job_id)
    WHERE NOT jobs.is_terminal
),

aged AS (
    SELECT
        *,
        seconds_between(status_since, least(last_fetched_at, $now::TIMESTAMPTZ)) AS age_seconds
    FROM open_jobs
),

-- The threshold is never below the floor, so only a job past the floor can be stuck;
-- the history is read for those jobs' types alone (none past it: no history at all).
candidates AS (
    SELECT * FROM aged WHERE age_seconds > $floor_seconds
),

history AS (
    SELECT
        jobs.job_type,
        transitions.from_status AS status,
        quantile_cont(transitions.duration_seconds, 0.99) AS p99_seconds
    FROM core.job_status_transitions AS transitions
    INNER JOIN (
        SELECT jobs.job_id, jobs.job_type
        FROM core.jobs AS jobs
        SEMI JOIN candidates ON candidates.job_type IS NOT DISTINCT FROM jobs.job_type
        WHERE jobs.is_terminal
    ) AS jobs USING (job_id)
    GROUP BY ALL
),

final AS (
    SELECT
        candidates.job_id,
        candidates.job_type,
        candidates.status,
        candidates.status_since,
        candidates.age_seconds,
        greatest($floor_seconds, coalesce(history.p99_seconds, $floor_seconds))
            AS threshold_seconds,
        candidates.last_fetched_at
    FROM candidates
    LEFT JOIN history
        ON history.job_type IS NOT DISTINCT FROM candidates.job_type
        AND history.status IS NOT DISTINCT FROM candidates.status
)

SELECT job_id, job_type, status, status_since, age_seconds, threshold_seconds, last_fetched_at
FROM final
WHERE age_seconds > threshold_seconds
