-- Trees whose critical-path segments do not sum to the root's total_seconds (within a
-- microsecond per segment), or whose segments overlap.
WITH trees AS (
    SELECT
        root_id,
        sum(seconds) AS path_seconds,
        count(*) AS segments,
        min(segment_start) AS path_start,
        max(segment_end) AS path_end
    FROM marts.tree_critical_path
    GROUP BY root_id
),

overlapping AS (
    SELECT DISTINCT root_id
    FROM (
        SELECT root_id, segment_start,
               lag(segment_end) OVER (PARTITION BY root_id ORDER BY segment_start, segment_end)
                   AS previous_end
        FROM marts.tree_critical_path
    )
    WHERE segment_start < previous_end
),

failing AS (
    SELECT trees.root_id
    FROM trees
    INNER JOIN marts.job_durations AS roots ON roots.job_id = trees.root_id
    WHERE abs(trees.path_seconds - roots.total_seconds) > 1e-6 * trees.segments
    UNION
    SELECT root_id FROM overlapping
)

SELECT count(*) AS failures FROM failing
