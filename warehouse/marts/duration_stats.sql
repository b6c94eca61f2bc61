-- marts.duration_stats: per (job_type, phase) distribution of marts.job_durations over
-- the jobs where that phase is known (percentiles interpolated, quantile_cont).
WITH source AS (
    SELECT job_type, queued_seconds, running_seconds, total_seconds
    FROM marts.job_durations
),

cleaned AS (
    SELECT job_type, phase, seconds
    FROM source
    UNPIVOT (seconds FOR phase IN (
        queued_seconds AS 'queued', running_seconds AS 'running', total_seconds AS 'total'
    ))
    WHERE seconds IS NOT NULL
),

final AS (
    SELECT
        job_type,
        phase,
        count(*) AS n,
        avg(seconds) AS mean_seconds,
        quantile_cont(seconds, [0.5, 0.9, 0.95, 0.99]) AS q,
        max(seconds) AS max_seconds
    FROM cleaned
    GROUP BY job_type, phase
)

SELECT
    job_type,
    phase,
    n,
    mean_seconds,
    q[1] AS p50_seconds,
    q[2] AS p90_seconds,
    q[3] AS p95_seconds,
    q[4] AS p99_seconds,
    max_seconds
FROM final
