-- How long do jobs stay in each status before moving on?
-- Every (from, to) pair of consecutive statuses, how often it happens, and the time spent
-- in the from-status.
SELECT
    from_status,
    to_status,
    n,
    round(p50_seconds, 1) AS p50_seconds,
    round(p95_seconds, 1) AS p95_seconds
FROM marts.transition_matrix
ORDER BY n DESC
