-- Schema version 4: what makes loading and the marts cheap at scale.
-- 1. Per-job event figures in core.jobs, computed with the job's events by the core
--    models, so marts.job_durations and marts.stuck_jobs never sort or window
--    core.job_events. Existing rows are filled from core.job_events here.
-- 2. raw.latest_payloads: the newest stored payload of each job (quarantined or not),
--    so load_batch finds the sha256 and verdict to dedupe against without reading
--    raw.job_payloads.
ALTER TABLE core.jobs ADD COLUMN n_events INTEGER;            -- extra: rows in core.job_events
ALTER TABLE core.jobs ADD COLUMN first_event_at TIMESTAMPTZ;    -- extra
ALTER TABLE core.jobs ADD COLUMN first_running_at TIMESTAMPTZ;  -- extra: first RUNNING event
ALTER TABLE core.jobs ADD COLUMN terminal_event_at TIMESTAMPTZ; -- extra: first terminal event
ALTER TABLE core.jobs ADD COLUMN run_attempts INTEGER;        -- extra: entries into RUNNING
ALTER TABLE core.jobs ADD COLUMN status_since TIMESTAMPTZ;      -- extra: start of the last run of one status

UPDATE core.jobs AS jobs SET
    n_events = figures.n_events,
    first_event_at = figures.first_event_at,
    first_running_at = figures.first_running_at,
    terminal_event_at = figures.terminal_event_at,
    run_attempts = figures.run_attempts,
    status_since = figures.status_since
FROM (
    WITH runs AS (
        SELECT
            job_id,
            status,
            event_at,
            lag(status) OVER (PARTITION BY job_id ORDER BY event_seq) AS previous_status
        FROM core.job_events
    )
    SELECT
        job_id,
        count(*)::INTEGER AS n_events,
        min(event_at) AS first_event_at,
        min(event_at) FILTER (WHERE status = 'RUNNING') AS first_running_at,
        min(event_at) FILTER (WHERE status IN ('COMPLETED', 'FAILED', 'CANCELED'))
            AS terminal_event_at,
        (count(*) FILTER (
            WHERE status = 'RUNNING' AND previous_status IS DISTINCT FROM 'RUNNING'
        ))::INTEGER AS run_attempts,
        max(event_at) FILTER (WHERE previous_status IS DISTINCT FROM status) AS status_since
    FROM runs
    GROUP BY job_id
) AS figures
WHERE jobs.job_id = figures.job_id;

UPDATE core.jobs SET n_events = 0, run_attempts = 0 WHERE n_events IS NULL;

CREATE TABLE raw.latest_payloads (
    job_id            VARCHAR NOT NULL,   -- one row per job with a stored payload
    payload_seq       BIGINT NOT NULL,
    payload_sha256    VARCHAR NOT NULL,
    quarantine_reason VARCHAR
);

INSERT INTO raw.latest_payloads
SELECT job_id, payload_seq, payload_sha256, quarantine_reason
FROM raw.job_payloads
QUALIFY row_number() OVER (PARTITION BY job_id ORDER BY payload_seq DESC) = 1;
