-- Non-terminal jobs stuck in a status longer than its threshold.
SELECT count(*) AS failures, coalesce(max(age_seconds), 0) AS oldest_seconds
FROM marts.stuck_jobs
