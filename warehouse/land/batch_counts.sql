SELECT
    -- land: a batch's figures for its BatchSummary: payloads stored, bodies received (the
    -- difference is the duplicates) and jobs quarantined.
    (SELECT count(*) FROM _payload_scope) AS stored,
    (SELECT count(*) FROM _batch_arrow WHERE payload_text IS NOT NULL) AS bodies,
    (SELECT count(*) FROM _ledger_updates WHERE outcome = 'quarantined') AS quarantined
