CREATE OR REPLACE TEMP TABLE _staged_jobs AS
-- land: whether each understood payload is terminal, by the rule core.jobs uses
-- (`job_is_terminal`, applied in core/stg_payloads.sql).
SELECT payload_seq, is_terminal FROM _stg_payloads WHERE quarantine_reason IS NULL
