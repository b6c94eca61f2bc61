INSERT INTO raw.job_payloads BY NAME
-- land: the batch's payloads to store (temp table _payload_scope), bodies as received,
-- each with its verdict (_stg_payloads: NULL, or why it is quarantined).
SELECT scope.job_id, scope.fetched_at, scope.payload, scope.payload_sha256,
       scope.payload_seq,
       CASE WHEN scope.payload IS NULL THEN scope.payload_text END AS payload_text,
       staged.quarantine_reason
FROM _payload_scope AS scope
INNER JOIN _stg_payloads AS staged USING (payload_seq)
