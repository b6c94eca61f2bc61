-- Which individual jobs took longest, and where did the time go?
-- The 20 longest finished jobs with their queued and running time and run attempts.
SELECT
    job_id,
    job_type,
    final_status,
    created_at,
    queued_seconds,
    running_seconds,
    total_seconds,
    run_attempts
FROM marts.job_durations
WHERE is_terminal AND total_seconds IS NOT NULL
ORDER BY total_seconds DESC
LIMIT 20
