-- Failure rate per job type over all days, with its 95% Wilson interval.
WITH source AS (
    SELECT job_type, sum(completed) AS completed, sum(failed) AS failed,
           sum(canceled) AS canceled
    FROM marts.failure_rates
    GROUP BY job_type
),

cleaned AS (
    SELECT
        job_type,
        failed,
        completed + failed + canceled AS terminal,
        failed / (completed + failed + canceled) AS p
    FROM source
    WHERE completed + failed + canceled > 0
)

SELECT
    job_type,
    terminal,
    p AS failure_rate,
    wilson_low(p, terminal) AS ci_low,
    wilson_high(p, terminal) AS ci_high
FROM cleaned
ORDER BY failure_rate DESC, terminal DESC
