-- core.job_status_transitions: unique (job_id, transition_seq), and for every job
-- with events exactly one transition fewer than events.
WITH events AS (
    SELECT job_id, count(*) AS n_events FROM core.job_events GROUP BY job_id
),
transitions AS (
    SELECT job_id, count(*) AS n_transitions, count(DISTINCT transition_seq) AS distinct_seq
    FROM core.job_status_transitions
    GROUP BY job_id
)
SELECT
    count(*) FILTER (
        WHERE coalesce(transitions.n_transitions, 0) <> events.n_events - 1
           OR transitions.n_transitions <> transitions.distinct_seq
    ) AS failures,
    count(*) AS jobs
FROM events
FULL OUTER JOIN transitions USING (job_id)
