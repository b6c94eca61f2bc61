-- Figures plotted across runs for marts.credits_by_week, one row, a column each: the
-- credits of the latest complete ISO week (all job types), of them those spent on jobs that
-- ended FAILED or CANCELED and on retries, and the share lost to failures. No complete week
-- yet: every figure is NULL, left out.
WITH latest AS (
    SELECT max(week) AS week FROM marts.credits_by_week WHERE week_complete
)

SELECT
    sum(credits) AS last_week_credits,
    sum(credits_failed) AS last_week_credits_failed,
    sum(credits_retried) AS last_week_credits_retried,
    round(sum(credits_failed) / nullif(sum(credits), 0), 4) AS last_week_failed_share
FROM marts.credits_by_week
WHERE week = (SELECT week FROM latest)
