-- Credits per ISO week of creation over all job types: spent, of them spent on jobs that
-- ended FAILED or CANCELED, and spent on retries of such jobs (the two overlap when a retry
-- fails too). Source: marts.credits_by_week (summed over job types).
SELECT
    week,
    any_value(iso_week) AS iso_week,
    sum(jobs) AS jobs,
    sum(credits) AS credits,
    sum(credits_failed) AS credits_failed,
    sum(credits_retried) AS credits_retried,
    bool_and(week_complete) AS week_complete
FROM marts.credits_by_week
WHERE week IS NOT NULL
GROUP BY week
HAVING sum(credits) > 0
ORDER BY week
