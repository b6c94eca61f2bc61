-- The p95 total seconds of the $1 busiest job types (most jobs with a total), busiest first.
SELECT job_type, p95_seconds
FROM marts.duration_stats
WHERE phase = 'total' AND job_type IS NOT NULL AND p95_seconds IS NOT NULL
ORDER BY n DESC, job_type
LIMIT $1
