-- Job types with at least $1 jobs stuck at the last refresh (marts.stuck_jobs): a burst
-- worth an alert. Worst first; `status` is the status most of them are stuck in.
SELECT
    coalesce(job_type, '(no type)') AS job_type,
    count(*) AS stuck,
    max(age_seconds) AS oldest_seconds,
    mode(status) AS status
FROM marts.stuck_jobs
GROUP BY ALL
HAVING count(*) >= $1
ORDER BY stuck DESC, job_type
