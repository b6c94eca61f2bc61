-- Requested job IDs by outcome.
SELECT outcome, count(*) AS ids
FROM ops.job_ledger
GROUP BY outcome
ORDER BY ids DESC
