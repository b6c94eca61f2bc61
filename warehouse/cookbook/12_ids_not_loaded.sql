-- Which requested job IDs never loaded, and why?
-- Every ID in the ledger ends in one outcome; this counts the ones that are not `loaded`
-- or still `pending`, by outcome and error code, with an example ID.
SELECT
    outcome,
    coalesce(error_code, '(none)') AS error_code,
    count(*) AS ids,
    min(job_id) AS example_id
FROM ops.job_ledger
WHERE outcome NOT IN ('loaded', 'pending')
GROUP BY ALL
ORDER BY ids DESC
