INSERT INTO ops.job_ledger BY NAME
-- land: the new ledger rows of the batch's jobs (temp table _ledger_rows).
SELECT * FROM _ledger_rows
