-- Schema version 2: when an ID was last asked for, and a data-quality view of
-- status spellings outside the canonical mapping (docs/api-contract.md, "Statuses and terminal states").
ALTER TABLE ops.job_ledger ADD COLUMN last_requested_at TIMESTAMPTZ;
UPDATE ops.job_ledger SET last_requested_at = requested_at;

CREATE OR REPLACE VIEW core.unknown_statuses AS
WITH source AS (
    SELECT status, status_raw FROM core.job_events
),
cleaned AS (
    SELECT status, status_raw
    FROM source
    WHERE status NOT IN ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELED')
)
SELECT status, status_raw, count(*) AS n_events
FROM cleaned
GROUP BY ALL;
