-- core.jobs holds one row per job.
SELECT count(*) - count(DISTINCT job_id) AS failures, count(*) AS rows
FROM core.jobs
