-- p50 and p95 of total duration per job type.
SELECT job_type, n, p50_seconds, p95_seconds
FROM marts.duration_stats
WHERE phase = 'total' AND n > 0
ORDER BY p95_seconds DESC
