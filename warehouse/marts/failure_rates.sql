-- marts.failure_rates: per (UTC day of created_at, job_type), failed / (completed +
-- failed + canceled) over terminal jobs, with a 95% Wilson score interval.
-- `jobs` counts every job of the day and type, finished or not.
WITH source AS (
    SELECT created_at::DATE AS day, job_type, status FROM core.jobs
),

counts AS (
    SELECT
        day,
        job_type,
        count(*) AS jobs,
        count(*) FILTER (WHERE status = 'COMPLETED') AS completed,
        count(*) FILTER (WHERE status = 'FAILED') AS failed,
        count(*) FILTER (WHERE status = 'CANCELED') AS canceled
    FROM source
    GROUP BY day, job_type
),

cleaned AS (
    SELECT
        *,
        completed + failed + canceled AS finished
    FROM counts
)

SELECT
    day,
    job_type,
    jobs,
    completed,
    failed,
    canceled,
    CASE WHEN finished > 0 THEN failed / finished END AS failure_rate,
    wilson_low(failed / finished, finished) AS failure_rate_ci_low,
    wilson_high(failed / finished, finished) AS failure_rate_ci_high
FROM cleaned
