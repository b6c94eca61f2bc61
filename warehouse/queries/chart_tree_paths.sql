-- The slowest complete tree of each kind (root_type), drawn as its critical path: every
-- segment with its offset from the root's start, the job's depth and the phase. Source:
-- marts.tree_critical_path.
WITH trees AS (
    SELECT
        root_id,
        root_type,
        sum(seconds) AS total_seconds,
        min(segment_start) AS started_at,
        count(*) OVER (PARTITION BY root_type) AS trees
    FROM marts.tree_critical_path
    WHERE complete
    GROUP BY root_id, root_type
),

slowest AS (
    SELECT *
    FROM trees
    QUALIFY row_number() OVER (PARTITION BY root_type ORDER BY total_seconds DESC, root_id) = 1
)

SELECT
    slowest.root_type,
    slowest.trees,
    slowest.root_id,
    slowest.total_seconds AS tree_seconds,
    path.job_id,
    path.job_type,
    path.depth,
    path.phase,
    epoch(path.segment_start) - epoch(slowest.started_at) AS offset_seconds,
    path.seconds
FROM slowest
INNER JOIN marts.tree_critical_path AS path USING (root_id)
ORDER BY slowest.trees DESC, slowest.root_type, path.segment_start
