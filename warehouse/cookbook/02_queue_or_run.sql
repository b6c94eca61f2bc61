-- Is the time spent waiting in the queue or running?
-- The p50 and p95 of each phase side by side, per job type: a large queued share points
-- at capacity, a large running share at the work itself.
SELECT
    job_type,
    max(p50_seconds) FILTER (WHERE phase = 'queued') AS queued_p50,
    max(p95_seconds) FILTER (WHERE phase = 'queued') AS queued_p95,
    max(p50_seconds) FILTER (WHERE phase = 'running') AS running_p50,
    max(p95_seconds) FILTER (WHERE phase = 'running') AS running_p95,
    round(max(p50_seconds) FILTER (WHERE phase = 'queued')
          / nullif(max(p50_seconds) FILTER (WHERE phase = 'total'), 0), 3) AS queued_share_p50
FROM marts.duration_stats
GROUP BY job_type
ORDER BY queued_p95 DESC NULLS LAST
