-- Duration distribution per job type and phase: p5, p25, p50, p75, p95 (box and whiskers).
-- Source: marts.job_durations (one row per job; the quantiles are computed here).
WITH source AS (
    SELECT job_type, queued_seconds, running_seconds, total_seconds
    FROM marts.job_durations
    WHERE job_type IS NOT NULL
),

phases AS (
    UNPIVOT source
    ON queued_seconds AS 'queued', running_seconds AS 'running', total_seconds AS 'total'
    INTO NAME phase VALUE seconds
),

final AS (
    SELECT
        job_type,
        phase,
        count(*) AS n,
        quantile_cont(seconds, [0.05, 0.25, 0.5, 0.75, 0.95]) AS q
    FROM phases
    WHERE seconds IS NOT NULL
    GROUP BY job_type, phase
)

SELECT
    job_type,
    phase,
    n,
    q[1] AS p05_seconds,
    q[2] AS p25_seconds,
    q[3] AS p50_seconds,
    q[4] AS p75_seconds,
    q[5] AS p95_seconds
FROM final
ORDER BY job_type, phase
