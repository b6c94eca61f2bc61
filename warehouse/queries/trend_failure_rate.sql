-- Terminal jobs and the overall failure rate (failed / terminal), for a trend across runs.
SELECT
    count(*) FILTER (WHERE is_terminal) AS terminal_jobs,
    (count(*) FILTER (WHERE final_status = 'FAILED'))
        / nullif(count(*) FILTER (WHERE is_terminal), 0) AS overall_failure_rate
FROM marts.job_durations
