-- When a fetch last returned a usable payload, for any ID (ops.job_ledger.loaded_at), and
-- the seconds since (NULL: never). Not raw.job_payloads.fetched_at: raw stores a body only
-- when it changed, so a healthy run re-fetching unchanged in-flight jobs never moves it.
SELECT
    max(loaded_at) AS last_loaded_at,
    seconds_between(max(loaded_at), $now::TIMESTAMPTZ) AS age_seconds
FROM ops.job_ledger
