-- Schema version 6: marts.regressions, what got worse (docs/what-changed.md).
-- One row per (job type, metric) with data in the current window or its baseline.
CREATE TABLE marts.regressions (
    job_type       VARCHAR,             -- The job's type, e.g. `drawing.preprocess`, `compare`.
    metric         VARCHAR,             -- `failure_rate`, `requeue_share`, `queued_p95_seconds`, `running_p95_seconds` or `total_p95_seconds`.
    window_start   TIMESTAMPTZ,         -- Start of the current window of `created_at` (UTC, inclusive).
    window_end     TIMESTAMPTZ,         -- End of the current window (UTC, exclusive): the refresh's now by default.
    baseline_start TIMESTAMPTZ,         -- extra: Start of the baseline (UTC, inclusive); it ends at `window_start`.
    baseline_n     BIGINT,              -- Jobs behind the baseline figure: terminal jobs for the rates, jobs with the phase known for a p95.
    current_n      BIGINT,              -- Jobs behind the current figure, counted as `baseline_n`.
    baseline_hits  BIGINT,              -- extra: Of `baseline_n`, jobs failed, re-queued, or above `test_threshold_seconds`.
    current_hits   BIGINT,              -- extra: Of `current_n`, jobs failed, re-queued, or above `test_threshold_seconds`.
    baseline_value DOUBLE,              -- The metric over the baseline: a share (0..1) or seconds.
    current_value  DOUBLE,              -- The metric over the current window.
    ratio          DOUBLE,              -- current_value / baseline_value (NULL when the baseline is 0).
    test_threshold_seconds DOUBLE,      -- extra: For a p95, the pooled 95th percentile the test counts jobs above.
    p_value        DOUBLE,              -- One-sided p-value of Fisher's exact test that the current window is worse (docs/what-changed.md).
    is_material    BOOLEAN,             -- extra: The change clears the materiality thresholds and the minimum counts.
    is_regression  BOOLEAN              -- Material and p_value below alpha (default 0.01): flagged as a regression.
);
