-- Figures plotted across runs for marts.failure_rates, one row, a column each: terminal
-- jobs and the overall failure rate (failed / terminal; NULL, left out, while none finished).
-- Source: marts.job_durations.
SELECT
    count(*) FILTER (WHERE is_terminal) AS terminal_jobs,
    (count(*) FILTER (WHERE final_status = 'FAILED'))
        / nullif(count(*) FILTER (WHERE is_terminal), 0) AS overall_failure_rate
FROM marts.job_durations
