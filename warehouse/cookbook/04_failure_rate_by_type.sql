-- Which job types fail most often overall?
-- Failures over terminal jobs per type, all days together; few jobs means a wide
-- interval, so read the rate together with `terminal`.
SELECT
    job_type,
    sum(completed + failed + canceled) AS terminal,
    sum(failed) AS failed,
    sum(canceled) AS canceled,
    round(sum(failed) / sum(completed + failed + canceled), 4) AS failure_rate
FROM marts.failure_rates
GROUP BY job_type
HAVING sum(completed + failed + canceled) > 0
ORDER BY failure_rate DESC, terminal DESC
