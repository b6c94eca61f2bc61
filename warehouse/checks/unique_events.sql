-- core.job_events: (job_id, event_seq) is unique and event_seq runs 0..n-1 per job.
WITH per_job AS (
    SELECT job_id, count(*) AS n, count(DISTINCT event_seq) AS distinct_seq,
           min(event_seq) AS first_seq, max(event_seq) AS last_seq
    FROM core.job_events
    GROUP BY job_id
)
SELECT
    count(*) FILTER (WHERE n <> distinct_seq OR first_seq <> 0 OR last_seq <> n - 1)
        AS failures,
    coalesce(sum(n), 0) AS rows
FROM per_job
