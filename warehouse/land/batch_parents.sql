CREATE OR REPLACE TEMP TABLE _ids AS
-- land: the parents the batch's understood payloads name (temp table _stg_payloads:
-- parent_id as the staging model reads it from either shape), to register in the
-- batch's own transaction, so a terminal child is never stored without its parent.
SELECT DISTINCT trim(parent_id) AS job_id
FROM _stg_payloads
WHERE quarantine_reason IS NULL AND parent_id IS NOT NULL AND trim(parent_id) <> ''
