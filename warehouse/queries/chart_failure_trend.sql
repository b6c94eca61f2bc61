-- Failure rate per day of creation over all job types, with its 95% Wilson interval.
-- Source: marts.failure_rates (summed over job types).
WITH source AS (
    SELECT
        day,
        sum(jobs) AS jobs,
        sum(failed) AS failed,
        sum(completed + failed + canceled) AS terminal
    FROM marts.failure_rates
    GROUP BY day
),

final AS (
    SELECT day, jobs, terminal, failed, failed / nullif(terminal, 0) AS failure_rate
    FROM source
)

SELECT
    day,
    jobs,
    terminal,
    failed,
    failure_rate,
    wilson_low(failure_rate, terminal) AS failure_rate_ci_low,
    wilson_high(failure_rate, terminal) AS failure_rate_ci_high
FROM final
ORDER BY day
