-- Every requested ID has exactly one ledger row and one known outcome.
SELECT
    count(*) - count(DISTINCT job_id) AS failures,
    count(*) FILTER (WHERE outcome NOT IN ('pending', 'loaded', 'not_found', 'forbidden',
                                           'invalid_id', 'failed', 'quarantined'))
        AS unknown_outcomes,
    count(*) AS ids
FROM ops.job_ledger
