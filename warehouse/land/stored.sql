CREATE OR REPLACE TEMP TABLE _stored AS
-- land: the payloads the batch stored (store_payloads.sql), as raw.latest_payloads keeps
-- them: sha256, verdict and the job's ledger_seq (_batch_keys).
SELECT scope.job_id, scope.payload_seq, scope.payload_sha256, staged.quarantine_reason,
       keys.ledger_seq
FROM _payload_scope AS scope
INNER JOIN _stg_payloads AS staged USING (payload_seq)
INNER JOIN _batch_keys AS keys ON keys.job_id = scope.job_id
