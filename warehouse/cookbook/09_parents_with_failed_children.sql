-- Which parent jobs had children fail?
-- Parents with at least one failed child, with the parent's own final status: a failed
-- child fails its parent.
SELECT
    t.parent_id,
    t.parent_type,
    p.status AS parent_status,
    t.n_children,
    t.children_failed,
    t.children_canceled,
    t.parent_total_seconds
FROM marts.job_trees AS t
LEFT JOIN core.jobs AS p ON p.job_id = t.parent_id
WHERE t.children_failed > 0
ORDER BY t.children_failed DESC, t.n_children DESC
LIMIT 50
