INSERT INTO ops.job_ledger (job_id, source, requested_at, last_requested_at,
                            attempts, outcome, is_terminal, id_hash, ledger_seq)
-- land: a `pending` ledger row for each ID of temp table _ids not registered yet
-- (_known_ids), from $source, requested at $at. $taken: a ledger_seq known to be in the
-- ledger (or NULL), so finding the last one reads only the rows from there on.
SELECT job_id, $source, $at, $at, 0, 'pending', false, id_hash(job_id),
       -- numbered in fetch order (requested_at, then job_id)
       (SELECT coalesce(max(ledger_seq), 0) FROM ops.job_ledger
        WHERE ledger_seq >= coalesce($taken, 0))
           + row_number() OVER (ORDER BY job_id)
FROM _ids ANTI JOIN _known_ids USING (job_id)
