-- Status spellings outside the canonical mapping (kept as their upper-case form).
SELECT coalesce(sum(n_events), 0) AS failures,
       coalesce(string_agg(DISTINCT status_raw, ', '), '') AS spellings
FROM core.unknown_statuses
