-- Which job types are slowest at the 95th percentile?
-- Total time runs from a job's first event to its end (a retried failure is not the end).
-- The p95 says how long the slowest one in twenty takes; p50 is the typical job.
SELECT job_type, n AS jobs, p50_seconds, p95_seconds, p99_seconds, max_seconds
FROM marts.duration_stats
WHERE phase = 'total' AND n > 0
ORDER BY p95_seconds DESC
LIMIT 10
