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
        completed + failed + canceled AS finished,
        1.959963984540054 AS z
    FROM counts
),

final AS (
    SELECT
        *,
        CASE WHEN finished > 0 THEN failed / finished END AS p,
        CASE WHEN finished > 0 THEN 1 + z * z / finished END AS denominator
    FROM cleaned
)

SELECT
    day,
    job_type,
    jobs,
    completed,
    failed,
    canceled,
    p AS failure_rate,
    greatest(0.0, (p + z * z / (2 * finished)
        - z * sqrt(p * (1 - p) / finished + z * z / (4 * finished * finished))) / denominator)
        AS failure_rate_ci_low,
    least(1.0, (p + z * z / (2 * finished)
        + z * sqrt(p * (1 - p) / finished + z * z / (4 * finished * finished))) / denominator)
        AS failure_rate_ci_high
FROM final
