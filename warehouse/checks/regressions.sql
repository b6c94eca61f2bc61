-- Job types and metrics that got materially and significantly worse (marts.regressions),
-- worst first, with the windows compared, the baseline's data and since when each is flagged.
SELECT
    job_type, metric, window_start, window_end, baseline_start, baseline_n, current_n,
    baseline_value, current_value, ratio, p_value, baseline_start_actual, baseline_days_actual,
    first_flagged_at
FROM marts.regressions
WHERE is_regression
ORDER BY p_value, job_type, metric
