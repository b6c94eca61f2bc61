-- How has the failure rate moved day by day, per job type?
-- The last 14 days that have data, with the 95% Wilson interval: when two days'
-- intervals overlap, the difference may be chance.
SELECT
    day,
    job_type,
    completed + failed + canceled AS terminal,
    failed,
    round(failure_rate, 4) AS failure_rate,
    round(failure_rate_ci_low, 4) AS ci_low,
    round(failure_rate_ci_high, 4) AS ci_high
FROM marts.failure_rates
WHERE day > (SELECT max(day) FROM marts.failure_rates) - INTERVAL 14 DAY
  AND completed + failed + canceled > 0
ORDER BY day DESC, failed DESC, job_type
