-- Figures plotted across runs for marts.regressions, one row, a column each: the
-- (job type, metric) pairs flagged as regressions.
SELECT count(*) FILTER (WHERE is_regression) AS regressions_found
FROM marts.regressions
