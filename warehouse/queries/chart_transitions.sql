-- The status transition graph: one edge per (from, to) pair, with its count and p50 time
-- spent in the from-status. Source: marts.transition_matrix.
SELECT from_status, to_status, n, p50_seconds, p95_seconds
FROM marts.transition_matrix
WHERE from_status IS NOT NULL AND to_status IS NOT NULL
ORDER BY n DESC
