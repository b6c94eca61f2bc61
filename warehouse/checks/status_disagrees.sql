-- Jobs whose top-level status is not the status of their last event.
SELECT count(*) AS failures
FROM core.jobs
WHERE reported_status IS NOT NULL
  AND EXISTS (SELECT 1 FROM core.job_events AS e WHERE e.job_id = core.jobs.job_id)
  AND reported_status IS DISTINCT FROM status
