-- Seconds since the last payload was fetched (NULL: nothing fetched yet).
SELECT
    CASE WHEN max(fetched_at) IS NULL THEN NULL
         ELSE epoch($now::TIMESTAMPTZ) - epoch(max(fetched_at)) END AS age_seconds
FROM raw.job_payloads
