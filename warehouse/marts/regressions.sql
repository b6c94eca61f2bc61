-- marts.regressions: per (job_type, metric), the current window of created_at against
-- the trailing baseline before it (docs/what-changed.md). Reads marts.job_durations
-- and ops.regression_flags.
-- Parameters: $window_end (TIMESTAMPTZ), $window_seconds, $baseline_seconds,
-- $alpha, $min_current_n, $min_baseline_n, $rate_min_ratio, $rate_min_increase,
-- $requeue_min_ratio, $requeue_min_increase, $p95_min_ratio, $p95_min_increase_seconds,
-- $mid_p (BOOLEAN: Lancaster's mid-p instead of the exact test's p-value).
-- Rates (failure_rate over terminal jobs, requeue_share over terminal jobs that ran) are
-- tested by Fisher's exact test on (hits, n) current vs baseline; a p95 by the same test
-- on the jobs above the pooled 95th percentile (label-free, so the test stays exact).
-- Each row also says what it knows: its verdict, how much of the baseline had data and,
-- when flagged, since when: from the runs of flags in ops.regression_flags, which
-- marts/record_regression_flags.sql extends after this model, in the same transaction.
WITH bounds AS (
    SELECT
        CAST($window_end AS TIMESTAMPTZ) AS window_end,
        CAST($window_end AS TIMESTAMPTZ)
            - to_microseconds(CAST(round($window_seconds * 1e6) AS BIGINT)) AS window_start,
        CAST($window_end AS TIMESTAMPTZ)
            - to_microseconds(CAST(round(($window_seconds + $baseline_seconds) * 1e6) AS BIGINT))
            AS baseline_start
),

source AS (
    SELECT
        durations.job_type,
        durations.created_at,
        durations.created_at >= bounds.window_start AS is_current,
        durations.is_terminal,
        durations.final_status,
        durations.run_attempts,
        durations.queued_seconds,
        durations.running_seconds,
        durations.total_seconds
    FROM marts.job_durations AS durations, bounds
    WHERE durations.created_at >= bounds.baseline_start
      AND durations.created_at < bounds.window_end
      AND durations.job_type IS NOT NULL
),

rate_observations AS (
    SELECT job_type, created_at, is_current, 'failure_rate' AS metric,
           (final_status = 'FAILED')::INTEGER AS hit
    FROM source WHERE is_terminal
    UNION ALL
    SELECT job_type, created_at, is_current, 'requeue_share' AS metric,
           (run_attempts > 1)::INTEGER AS hit
    FROM source WHERE is_terminal AND run_attempts >= 1
),

rates AS (
    SELECT
        job_type,
        metric,
        count(*) FILTER (WHERE NOT is_current) AS baseline_n,
        count(*) FILTER (WHERE is_current) AS current_n,
        coalesce(sum(hit) FILTER (WHERE NOT is_current), 0)::BIGINT AS baseline_hits,
        coalesce(sum(hit) FILTER (WHERE is_current), 0)::BIGINT AS current_hits,
        avg(hit) FILTER (WHERE NOT is_current) AS baseline_value,
        avg(hit) FILTER (WHERE is_current) AS current_value,
        CAST(NULL AS DOUBLE) AS test_threshold_seconds,
        min(created_at) FILTER (WHERE NOT is_current) AS baseline_start_actual
    FROM rate_observations
    GROUP BY job_type, metric
),

duration_observations AS (
    SELECT job_type, created_at, is_current, metric, seconds
    FROM source
    UNPIVOT (seconds FOR metric IN (
        queued_seconds AS 'queued_p95_seconds',
        running_seconds AS 'running_p95_seconds',
        total_seconds AS 'total_p95_seconds'
    ))
    WHERE seconds IS NOT NULL
),

pooled AS (
    SELECT job_type, metric, quantile_cont(seconds, 0.95) AS threshold
    FROM duration_observations
    GROUP BY job_type, metric
),

percentiles AS (
    SELECT
        observations.job_type,
        observations.metric,
        count(*) FILTER (WHERE NOT is_current) AS baseline_n,
        count(*) FILTER (WHERE is_current) AS current_n,
        count(*) FILTER (WHERE NOT is_current AND seconds > pooled.threshold) AS baseline_hits,
        count(*) FILTER (WHERE is_current AND seconds > pooled.threshold) AS current_hits,
        quantile_cont(seconds, 0.95) FILTER (WHERE NOT is_current) AS baseline_value,
        quantile_cont(seconds, 0.95) FILTER (WHERE is_current) AS current_value,
        any_value(pooled.threshold) AS test_threshold_seconds,
        min(created_at) FILTER (WHERE NOT is_current) AS baseline_start_actual
    FROM duration_observations AS observations
    INNER JOIN pooled USING (job_type, metric)
    GROUP BY observations.job_type, observations.metric
),

tested AS (
    SELECT
        *,
        CASE WHEN baseline_value > 0 THEN current_value / baseline_value END AS ratio,
        fisher_greater(current_hits, current_n, baseline_hits, baseline_n,
                       CASE WHEN $mid_p THEN 0.5 ELSE 1.0 END) AS p_value,
        CASE
            WHEN metric = 'failure_rate' THEN $rate_min_ratio
            WHEN metric = 'requeue_share' THEN $requeue_min_ratio
            ELSE $p95_min_ratio
        END AS min_ratio,
        CASE
            WHEN metric = 'failure_rate' THEN $rate_min_increase
            WHEN metric = 'requeue_share' THEN $requeue_min_increase
            ELSE $p95_min_increase_seconds
        END AS min_increase
    FROM (SELECT * FROM rates UNION ALL BY NAME SELECT * FROM percentiles)
),

final AS (
    SELECT
        *,
        coalesce(
            current_n >= $min_current_n
            AND baseline_n >= $min_baseline_n
            AND current_value - baseline_value >= min_increase
            AND (baseline_value = 0 OR current_value / baseline_value >= min_ratio),
            false) AS is_material
    FROM tested
),

judged AS (
    SELECT *, is_material AND coalesce(p_value < $alpha, false) AS is_regression
    FROM final
)

SELECT
    judged.job_type,
    judged.metric,
    bounds.window_start,
    bounds.window_end,
    bounds.baseline_start,
    judged.baseline_n,
    judged.current_n,
    judged.baseline_hits,
    judged.current_hits,
    judged.baseline_value,
    judged.current_value,
    judged.ratio,
    judged.test_threshold_seconds,
    judged.p_value,
    judged.is_material,
    judged.is_regression,
    CASE
        WHEN judged.is_regression THEN 'regression'
        WHEN judged.current_n = 0 THEN 'no current data'
        WHEN judged.current_n < $min_current_n OR judged.baseline_n < $min_baseline_n
            THEN 'too few jobs'
        ELSE 'within noise'
    END AS verdict,
    judged.baseline_start_actual,
    coalesce(date_diff('microsecond', judged.baseline_start_actual, bounds.window_start)
             / 86400e6, 0.0) AS baseline_days_actual,
    -- A flag continues the run of its (type, metric) when that run reaches into this window
    -- (for a refresh at now: it was last flagged by a refresh inside the window); otherwise
    -- it starts a run here. A run ending before a backdated window does not reach into it.
    CASE WHEN judged.is_regression THEN
        CASE WHEN flags.first_flagged_at <= bounds.window_end
                  AND flags.last_flagged_at >= bounds.window_start
            THEN flags.first_flagged_at
            ELSE bounds.window_end
        END
    END AS first_flagged_at
FROM judged
CROSS JOIN bounds
LEFT JOIN ops.regression_flags AS flags
    ON flags.job_type = judged.job_type AND flags.metric = judged.metric
