-- Figures plotted across runs for marts.tree_stage_shares, one row, a column each: per kind
-- of tree (the 3 with most trees), the mean share of its dominant stage, and that stage's
-- name beside it (text, shown but not plotted). The NULL row keeps one column when there is
-- no tree yet (a NULL figure is left out).
WITH dominant AS (
    SELECT root_type, job_type || ' ' || phase AS stage, round(mean_share, 3) AS share
    FROM marts.tree_stage_shares
    WHERE rank = 1
    ORDER BY root_trees DESC, root_type
    LIMIT 3
)

PIVOT (
    SELECT 'dominant_share ' || root_type AS metric, share::VARCHAR AS value FROM dominant
    UNION ALL
    SELECT 'dominant_stage ' || root_type AS metric, stage AS value FROM dominant
    UNION ALL
    SELECT 'dominant_share', NULL
) ON metric USING first(value)
