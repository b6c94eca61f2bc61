-- Do re-queued jobs take longer and fail more?
-- Jobs with one run attempt against jobs with more, per job type (terminal jobs only).
SELECT
    job_type,
    run_attempts > 1 AS requeued,
    count(*) AS jobs,
    round(median(total_seconds), 1) AS p50_total_seconds,
    round(avg((final_status = 'FAILED')::INTEGER), 4) AS failure_rate
FROM marts.job_durations
WHERE is_terminal
GROUP BY ALL
ORDER BY job_type, requeued
