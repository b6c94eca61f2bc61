CREATE OR REPLACE TEMP TABLE _stg_payloads AS
-- land: the one reading of the job document, core/stg_payloads.sql (put in where it is
-- named below, over temp table _payload_scope): verdicts, parents and the terminal rule
-- come from it, never from Python. Only the columns landing needs are kept, so DuckDB
-- computes no more of the model than those.
SELECT job_id, payload_seq, quarantine_reason, parent_id, is_terminal
FROM ({{ core/stg_payloads }})
