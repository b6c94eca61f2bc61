-- Schema version 10: a job's end, written once (docs/api-contract.md, "A job's end").
-- core.jobs.terminal_at is the end by the macro job_end (schema/macros.sql): the last
-- terminal event unless the events were cut off, never the first terminal event of a job
-- that was run again; NULL for an open job. It replaces terminal_event_at (the first
-- terminal event). core.jobs.failed_attempts counts the FAILED events a later RUNNING
-- followed. Existing rows are filled from core.job_events by the same macros.
ALTER TABLE core.jobs ADD COLUMN terminal_at TIMESTAMPTZ;  -- extra: the job's end
ALTER TABLE core.jobs ADD COLUMN failed_attempts INTEGER;  -- extra: retried failures

UPDATE core.jobs AS jobs SET
    terminal_at = job_end(figures.events, jobs.is_terminal, jobs.completed_at, jobs.updated_at),
    failed_attempts = retried_failures(list_transform(figures.events, lambda e: e.status))
FROM (
    SELECT job_id, list({'status': status, 'event_at': event_at} ORDER BY event_seq) AS events
    FROM core.job_events
    GROUP BY job_id
) AS figures
WHERE jobs.job_id = figures.job_id;

UPDATE core.jobs SET
    terminal_at = job_end(NULL::STRUCT(status VARCHAR, event_at TIMESTAMPTZ)[], is_terminal,
                          completed_at, updated_at),
    failed_attempts = 0
WHERE failed_attempts IS NULL;

ALTER TABLE core.jobs DROP COLUMN terminal_event_at;

-- The mart is its model's result (refreshed every run); until the next refresh it has the
-- new column too, so a query naming it works on an upgraded warehouse.
ALTER TABLE marts.job_durations ADD COLUMN failed_attempts INTEGER;
