-- Figures plotted across runs for marts.stuck_jobs, one row, a column each: jobs stuck now.
SELECT count(*) AS stuck_now
FROM marts.stuck_jobs
