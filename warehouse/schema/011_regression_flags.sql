-- Schema version 11: what changed remembers its flags (docs/what-changed.md).
-- ops.regression_flags: per (job type, metric), the run of refreshes that flagged it, so a
-- refresh can tell a regression it finds for the first time from one already flagged.
-- refresh_marts reads it in marts/regressions.sql (first_flagged_at) and writes it in the
-- same transaction (marts/record_regression_flags.sql).
CREATE TABLE ops.regression_flags (
    job_type         VARCHAR NOT NULL,  -- the flagged job type
    metric           VARCHAR NOT NULL,  -- the flagged metric
    first_flagged_at TIMESTAMPTZ NOT NULL,  -- window_end of the refresh that first flagged it
    last_flagged_at  TIMESTAMPTZ NOT NULL   -- window_end of the latest refresh that flagged it
);

-- The mart is its model's result (refreshed every run); until the next refresh it has the
-- new columns too, so a query naming them works on an upgraded warehouse.
ALTER TABLE marts.regressions ADD COLUMN verdict VARCHAR;
ALTER TABLE marts.regressions ADD COLUMN baseline_start_actual TIMESTAMPTZ;
ALTER TABLE marts.regressions ADD COLUMN baseline_days_actual DOUBLE;
ALTER TABLE marts.regressions ADD COLUMN first_flagged_at TIMESTAMPTZ;
