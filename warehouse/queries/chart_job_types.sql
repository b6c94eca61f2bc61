-- Per job type: total duration (p50, p95) and failure rate with its 95% Wilson interval.
-- Sources: marts.duration_stats (phase 'total') and marts.failure_rates (summed over days).
WITH durations AS (
    SELECT job_type, n, p50_seconds, p95_seconds
    FROM marts.duration_stats
    WHERE phase = 'total' AND n > 0
),

failures AS (
    SELECT
        job_type,
        sum(failed) AS failed,
        sum(completed + failed + canceled) AS terminal
    FROM marts.failure_rates
    GROUP BY job_type
),

final AS (
    SELECT
        coalesce(d.job_type, f.job_type) AS job_type,
        d.n,
        d.p50_seconds,
        d.p95_seconds,
        f.terminal,
        f.failed,
        f.failed / nullif(f.terminal, 0) AS failure_rate
    FROM durations AS d
    FULL OUTER JOIN failures AS f USING (job_type)
)

SELECT
    job_type,
    n,
    p50_seconds,
    p95_seconds,
    terminal,
    failed,
    failure_rate,
    wilson_low(failure_rate, terminal) AS failure_rate_ci_low,
    wilson_high(failure_rate, terminal) AS failure_rate_ci_high
FROM final
ORDER BY p95_seconds DESC NULLS LAST, job_type
