-- Which stage dominates each kind of job tree?
-- Per root type, the stages (job type and phase) its trees' critical paths spend the most
-- time in, over complete trees: speeding up a stage off the critical path does not make
-- the tree faster. mean_share is the average share of a tree's time (docs/trees.md).
-- may be empty: until some finished job with known children has been loaded.
SELECT
    root_type,
    rank,
    job_type,
    phase,
    root_trees AS trees_of_this_kind,
    round(mean_share, 3) AS mean_share,
    round(p50_share, 3) AS p50_share,
    round(p95_share, 3) AS p95_share,
    round(mean_seconds, 1) AS mean_seconds
FROM marts.tree_stage_shares
WHERE rank <= 3
ORDER BY root_trees DESC, root_type, rank
