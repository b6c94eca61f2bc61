-- Where do re-queues happen?
-- A re-queue is a RUNNING → PENDING transition. Per job type: how many, how many jobs
-- they hit, and how long the job had run before it went back to the queue.
SELECT
    j.job_type,
    count(*) AS requeues,
    count(DISTINCT t.job_id) AS jobs_requeued,
    round(median(t.duration_seconds), 1) AS p50_seconds_running_before,
    round(max(t.duration_seconds), 1) AS max_seconds_running_before
FROM core.job_status_transitions AS t
JOIN core.jobs AS j USING (job_id)
WHERE t.from_status = 'RUNNING' AND t.to_status = 'PENDING'
GROUP BY j.job_type
ORDER BY requeues DESC
