-- Stuck jobs per job type and status: how many, the oldest, and the threshold they passed.
-- Source: marts.stuck_jobs.
SELECT
    job_type,
    status,
    count(*) AS jobs,
    max(age_seconds) AS oldest_seconds,
    median(age_seconds) AS median_age_seconds,
    min(threshold_seconds) AS threshold_seconds,
    arg_max(job_id, age_seconds) AS oldest_job_id
FROM marts.stuck_jobs
GROUP BY job_type, status
ORDER BY jobs DESC, oldest_seconds DESC
