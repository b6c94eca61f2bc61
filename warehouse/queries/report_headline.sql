-- The report's headline figures. Sources: marts.job_durations and marts.stuck_jobs.
SELECT
    count(*) AS jobs,
    count(*) FILTER (WHERE is_terminal) AS terminal,
    count(*) FILTER (WHERE final_status = 'FAILED') AS failed,
    count(*) FILTER (WHERE run_attempts > 1) AS requeued,
    min(created_at) AS first_created_at,
    max(created_at) AS last_created_at,
    (SELECT count(*) FROM marts.stuck_jobs) AS stuck
FROM marts.job_durations
