INSERT INTO raw.latest_payloads BY NAME
-- land: one row per job the batch stored a payload for (temp table _stored): its newest.
SELECT * FROM _stored
QUALIFY row_number() OVER (PARTITION BY job_id ORDER BY payload_seq DESC) = 1
