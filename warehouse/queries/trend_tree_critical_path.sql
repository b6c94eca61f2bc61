-- Figures plotted across runs for marts.tree_critical_path, one row, a column each: trees,
-- of them incomplete, and the median critical-path length (a root's total) of complete trees.
WITH trees AS (
    SELECT root_id, bool_and(complete) AS complete, sum(seconds) AS total_seconds
    FROM marts.tree_critical_path
    GROUP BY root_id
)

SELECT
    count(*) AS trees,
    count(*) FILTER (WHERE NOT complete) AS incomplete_trees,
    round(median(total_seconds) FILTER (WHERE complete), 2) AS p50_tree_seconds
FROM trees
