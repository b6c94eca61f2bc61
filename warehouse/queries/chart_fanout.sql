-- Parent/child fan-out per parent job type: children per parent (p5..p95) and the share of
-- parents with a failed or canceled child. Source: marts.job_trees.
WITH source AS (
    SELECT parent_type, n_children, children_failed, children_canceled
    FROM marts.job_trees
    WHERE parent_type IS NOT NULL
),

final AS (
    SELECT
        parent_type,
        count(*) AS parents,
        sum(n_children) AS children,
        quantile_cont(n_children, [0.05, 0.25, 0.5, 0.75, 0.95]) AS q,
        count(*) FILTER (WHERE children_failed > 0) AS parents_with_failed_child,
        count(*) FILTER (WHERE children_canceled > 0) AS parents_with_canceled_child
    FROM source
    GROUP BY parent_type
)

SELECT
    parent_type,
    parents,
    children,
    q[1] AS p05_children,
    q[2] AS p25_children,
    q[3] AS p50_children,
    q[4] AS p75_children,
    q[5] AS p95_children,
    parents_with_failed_child,
    parents_with_canceled_child,
    parents_with_failed_child / parents AS share_with_failed_child,
    parents_with_canceled_child / parents AS share_with_canceled_child
FROM final
ORDER BY parents DESC
