-- Figures plotted across runs for marts.duration_stats, one row, a column each: the p95
-- total seconds of the 3 busiest job types (most jobs with a total). The NULL row keeps
-- one column when there is no type yet (a NULL figure is left out).
PIVOT (
    (
        SELECT 'p95_total_seconds ' || job_type AS metric, round(p95_seconds, 2) AS value
        FROM marts.duration_stats
        WHERE phase = 'total' AND job_type IS NOT NULL AND p95_seconds IS NOT NULL
        ORDER BY n DESC, job_type
        LIMIT 3
    )
    UNION ALL
    SELECT 'p95_total_seconds', NULL
) ON metric USING first(value)
