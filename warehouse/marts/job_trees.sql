-- marts.job_trees: per parent job, its children's outcomes and time span.
-- children_span_seconds runs from the first child's start (first event, else
-- created_at) to the last child's end; it stays NULL while a child has no known end.
-- A child's end is core.jobs.terminal_at, as in marts.job_durations (no join of every
-- child with marts.job_durations).
WITH source AS (
    SELECT
        parent_id,
        status,
        job_started_at(first_event_at, created_at) AS started_at,
        terminal_at AS ended_at
    FROM core.jobs
    WHERE parent_id IS NOT NULL
),

children AS (
    SELECT
        parent_id,
        count(*) AS n_children,
        count(*) FILTER (WHERE status = 'FAILED') AS children_failed,
        count(*) FILTER (WHERE status = 'CANCELED') AS children_canceled,
        min(started_at) AS first_started_at,
        CASE WHEN count(ended_at) = count(*) THEN max(ended_at) END AS last_ended_at
    FROM source
    GROUP BY parent_id
)

SELECT
    children.parent_id,
    parents.job_type AS parent_type,
    children.n_children,
    children.children_failed,
    children.children_canceled,
    parents.total_seconds AS parent_total_seconds,
    seconds_between(children.first_started_at, children.last_ended_at)
        AS children_span_seconds
FROM children
LEFT JOIN marts.job_durations AS parents ON parents.job_id = children.parent_id
