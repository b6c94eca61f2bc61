-- What was the slowest parse waiting on?
-- The critical path of the slowest complete `parse` tree, segment by segment: which job
-- (and which phase of it) held the tree up, when, and for how long.
-- may be empty: until a complete parse tree has been loaded.
WITH slowest AS (
    SELECT root_id
    FROM marts.tree_critical_path
    WHERE root_type = 'parse' AND complete
    GROUP BY root_id
    ORDER BY sum(seconds) DESC, root_id
    LIMIT 1
)

SELECT
    path.segment_start,
    path.depth,
    path.job_type,
    path.phase,
    path.seconds,
    round(path.share, 3) AS share,
    path.job_id
FROM marts.tree_critical_path AS path
INNER JOIN slowest USING (root_id)
ORDER BY path.segment_start
