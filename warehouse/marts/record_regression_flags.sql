-- Not a mart: the statement refresh_marts runs after the marts, in their transaction, so
-- the next refresh knows which of its flags are new (docs/what-changed.md). Extends
-- ops.regression_flags by the rows marts.regressions just flagged:
-- - a flag that continued its run (its first_flagged_at came from the entry) moves the
--   run's end to the latest window_end seen;
-- - a flag that started a run replaces an entry whose run ended before it;
-- - an entry with a later run is left alone: a backdated refresh (a window_end in the
--   past) neither shortens nor restarts what later refreshes recorded.
-- Idempotent: the same refresh twice leaves the same rows.
MERGE INTO ops.regression_flags AS flags
USING (
    SELECT job_type, metric, first_flagged_at, window_end
    FROM marts.regressions
    WHERE is_regression
) AS flagged
ON flags.job_type = flagged.job_type AND flags.metric = flagged.metric
WHEN MATCHED AND flagged.first_flagged_at = flags.first_flagged_at THEN UPDATE SET
    last_flagged_at = greatest(flags.last_flagged_at, flagged.window_end)
WHEN MATCHED AND flagged.window_end > flags.last_flagged_at THEN UPDATE SET
    first_flagged_at = flagged.first_flagged_at,
    last_flagged_at = flagged.window_end
WHEN NOT MATCHED THEN INSERT (job_type, metric, first_flagged_at, last_flagged_at)
    VALUES (flagged.job_type, flagged.metric, flagged.first_flagged_at, flagged.window_end)
