-- Is the in-flight data fresh enough to judge stuck jobs? The one statement of the rule,
-- read by the stuck_jobs check and the alerts (warehouse/stuck.py). Parameters: $now
-- (TIMESTAMPTZ), $floor_seconds (DOUBLE: the stuck floor, the least threshold).
-- last_fetched_at: the last successful fetch of any job in flight (non-terminal in
-- core.jobs): the newest ops.job_ledger.loaded_at, core.jobs.fetched_at where the ledger
-- has none. Stale when that is more than $floor_seconds before $now: a job may have
-- passed its threshold since, unseen (marts.stuck_jobs measures ages only up to each
-- job's last fetch). Nothing in flight is never stale.
WITH in_flight AS (
    SELECT coalesce(ledger.loaded_at, jobs.fetched_at) AS last_fetched_at
    FROM core.jobs AS jobs
    LEFT JOIN ops.job_ledger AS ledger USING (job_id)
    WHERE NOT jobs.is_terminal
)

SELECT
    count(*) AS in_flight,
    max(last_fetched_at) AS last_fetched_at,
    seconds_between(max(last_fetched_at), $now::TIMESTAMPTZ) AS age_seconds,
    coalesce(seconds_between(max(last_fetched_at), $now::TIMESTAMPTZ) > $floor_seconds, false)
        AS is_stale
FROM in_flight
