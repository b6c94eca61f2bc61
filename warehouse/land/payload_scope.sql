-- land: the payloads of a fetch batch (temp table _batch_arrow) to store, with the
-- sha256 and verdict of each job's last stored payload in temp table _last_stored.
-- A payload is stored when it differs from the one before it (in the batch, else the
-- last stored): an identical body would change nothing downstream. Stored payloads are
-- numbered after everything already in raw, in fetch order. `payload` is the body as
-- received, typed JSON (NULL when it is not valid JSON: it then stays text, payload_text).
WITH source AS (
    -- Keys only: the bodies are joined back after the windows, which then sort and
    -- partition narrow rows.
    SELECT batch.ordinal, batch.job_id, batch.payload_sha256,
           coalesce(
               lag(batch.payload_sha256) OVER (
                   PARTITION BY batch.job_id ORDER BY batch.ordinal),
               last.payload_sha256
           ) AS previous_sha256
    FROM _batch_arrow AS batch
    LEFT JOIN _last_stored AS last USING (job_id)
    WHERE batch.payload_text IS NOT NULL
),

new AS (
    SELECT
        ordinal,
        -- The newest payload overall is the newest of its job, so the one row per job
        -- of raw.latest_payloads holds the highest payload_seq.
        (SELECT coalesce(max(payload_seq), 0) FROM raw.latest_payloads)
            + row_number() OVER (ORDER BY ordinal) AS payload_seq
    FROM source
    WHERE payload_sha256 IS DISTINCT FROM previous_sha256
)

SELECT
    batch.job_id,
    new.payload_seq,
    batch.fetched_at,
    TRY_CAST(batch.payload_text AS JSON) AS payload,
    -- the text again only when it is not JSON (raw keeps it there)
    CASE WHEN TRY_CAST(batch.payload_text AS JSON) IS NULL THEN batch.payload_text END
        AS payload_text,
    batch.payload_sha256,
    batch.ordinal
FROM new
INNER JOIN _batch_arrow AS batch USING (ordinal)
