-- What errors do failed jobs report?
-- Failed jobs by type and error code, with one example message each.
SELECT
    job_type,
    coalesce(error_code, '(none)') AS error_code,
    count(*) AS failed_jobs,
    any_value(error_message) AS example_message
FROM core.jobs
WHERE status = 'FAILED'
GROUP BY ALL
ORDER BY failed_jobs DESC, job_type
