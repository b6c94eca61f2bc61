-- Where a tree's time goes: per kind of tree (root_type), the critical path of its median
-- tree (the p50 of complete trees by total time) split by stage (job_type) and phase; the
-- shares of a tree sum to 1. Source: marts.tree_critical_path.
WITH trees AS (
    SELECT root_id, root_type, sum(seconds) AS total_seconds
    FROM marts.tree_critical_path
    WHERE complete
    GROUP BY root_id, root_type
),

ranked AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY root_type ORDER BY total_seconds, root_id) AS position,
        count(*) OVER (PARTITION BY root_type) AS trees
    FROM trees
),

median_trees AS (
    SELECT root_id, root_type, total_seconds, trees
    FROM ranked
    WHERE position = (trees + 1) // 2
)

SELECT
    median_trees.root_type,
    median_trees.trees,
    median_trees.root_id,
    median_trees.total_seconds AS p50_tree_seconds,
    path.job_type,
    path.phase,
    sum(path.seconds) AS seconds,
    sum(path.share) AS share
FROM median_trees
INNER JOIN marts.tree_critical_path AS path USING (root_id)
GROUP BY ALL
ORDER BY median_trees.trees DESC, median_trees.root_type, share DESC, path.job_type, path.phase
