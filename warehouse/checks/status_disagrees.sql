-- Jobs whose top-level status is not the status of their last event (core.jobs.status
-- takes the terminal one of the two, the top-level first: this keeps the disagreement
-- visible).
WITH last_events AS (
    SELECT job_id, arg_max(status, event_seq) AS last_event_status
    FROM core.job_events
    GROUP BY job_id
)

SELECT count(*) AS failures
FROM core.jobs
INNER JOIN last_events USING (job_id)
WHERE core.jobs.reported_status IS NOT NULL
  AND core.jobs.reported_status IS DISTINCT FROM last_events.last_event_status
