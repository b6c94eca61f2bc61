-- marts.transition_matrix: per (from_status, to_status), how often and how long.
WITH source AS (
    SELECT from_status, to_status, duration_seconds FROM core.job_status_transitions
),

final AS (
    SELECT
        from_status,
        to_status,
        count(*) AS n,
        avg(duration_seconds) AS mean_seconds,
        quantile_cont(duration_seconds, [0.5, 0.95]) AS q
    FROM source
    GROUP BY from_status, to_status
)

SELECT from_status, to_status, n, mean_seconds, q[1] AS p50_seconds, q[2] AS p95_seconds
FROM final
