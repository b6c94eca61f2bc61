UPDATE ops.job_ledger
-- land: an ID requested again keeps its ledger row; only last_requested_at moves on
-- (temp table _known_ids, requested at $at).
SET last_requested_at = greatest(last_requested_at, $at)
WHERE job_id IN (SELECT job_id FROM _known_ids)
