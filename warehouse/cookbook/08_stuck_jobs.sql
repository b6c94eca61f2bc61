-- Which jobs are stuck right now?
-- Non-terminal jobs that had been in their status longer than the threshold (the p99 of
-- finished jobs of the type, never less than the floor) when last fetched successfully,
-- oldest first. Ages end at last_fetched_at: if that is hours ago, fetching has failed
-- since (the stuck_jobs check says the data is stale).
-- may be empty: when no job is past its threshold (a good day).
SELECT
    job_id,
    job_type,
    status,
    status_since,
    round(age_seconds / 3600, 2) AS age_hours,
    round(threshold_seconds / 3600, 2) AS threshold_hours,
    last_fetched_at
FROM marts.stuck_jobs
ORDER BY age_seconds DESC
LIMIT 50
