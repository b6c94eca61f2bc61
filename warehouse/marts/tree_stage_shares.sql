-- marts.tree_stage_shares: per kind of tree (root_type), which stage (job_type, phase) its
-- time goes to, from marts.tree_critical_path over complete trees (docs/trees.md).
-- A tree's share of a stage is the sum of that stage's segments / the root's total; a
-- tree whose critical path does not pass the stage counts with share 0, so the figures
-- describe every tree of the kind. rank 1 = the largest mean share: the stage that
-- dominates that kind of tree.
WITH segments AS (
    SELECT root_id, root_type, job_type, phase, seconds, share
    FROM marts.tree_critical_path
    WHERE complete AND share IS NOT NULL
),

per_tree AS (
    SELECT root_id, root_type, job_type, phase, sum(share) AS share, sum(seconds) AS seconds
    FROM segments
    GROUP BY ALL
),

kinds AS (
    SELECT root_type, count(DISTINCT root_id) AS n_trees
    FROM segments
    GROUP BY root_type
),

-- Every stage seen in a kind, for every tree of that kind (0 where the path misses it).
stages AS (
    SELECT DISTINCT root_type, job_type, phase FROM per_tree
),

filled AS (
    SELECT
        stages.root_type,
        stages.job_type,
        stages.phase,
        trees.root_id,
        coalesce(per_tree.share, 0.0) AS share,
        coalesce(per_tree.seconds, 0.0) AS seconds,
        per_tree.root_id IS NOT NULL AS on_path
    FROM stages
    INNER JOIN (SELECT DISTINCT root_type, root_id FROM per_tree) AS trees USING (root_type)
    LEFT JOIN per_tree USING (root_type, job_type, phase, root_id)
),

final AS (
    SELECT
        root_type,
        job_type,
        phase,
        count(*) FILTER (WHERE on_path) AS trees,
        any_value(kinds.n_trees) AS root_trees,
        quantile_cont(share, 0.5) AS p50_share,
        quantile_cont(share, 0.95) AS p95_share,
        avg(share) AS mean_share,
        avg(seconds) AS mean_seconds
    FROM filled
    INNER JOIN kinds USING (root_type)
    GROUP BY root_type, job_type, phase
)

SELECT
    root_type,
    job_type,
    phase,
    trees,
    root_trees,
    p50_share,
    p95_share,
    mean_share,
    mean_seconds,
    row_number() OVER (PARTITION BY root_type ORDER BY mean_share DESC, job_type, phase)::INTEGER
        AS rank
FROM final
