CREATE OR REPLACE TEMP TABLE _payload_scope AS
-- land: the payloads of a fetch batch (temp table _batch_arrow) to store, with the
-- sha256 and verdict of each job's last stored payload in temp table _last_stored.
-- A payload is stored when it differs from the one before it (in the batch, else the
-- last stored): an identical body would change nothing downstream. Stored payloads are
-- numbered after everything already in raw, in fetch order. `payload` is the body as
-- received, typed JSON (NULL when it is not valid JSON: it then stays text, payload_text).
WITH repeated_jobs AS (
    SELECT job_id FROM _batch_arrow
    WHERE payload_text IS NOT NULL
    GROUP BY job_id
    HAVING count(*) > 1
),

bodies AS (
    -- Keys only: the bodies are joined back at the end, so nothing below carries them.
    SELECT batch.ordinal, batch.job_id, batch.payload_sha256,
           last.payload_sha256 AS last_stored_sha256,
           batch.job_id IN (SELECT job_id FROM repeated_jobs) AS repeated
    FROM _batch_arrow AS batch
    LEFT JOIN _last_stored AS last USING (job_id)
    WHERE batch.payload_text IS NOT NULL
),

source AS (
    -- The body before each one: the last stored, or, for a job fetched more than once
    -- in the batch (rare), the batch's previous one. The ordered window runs over those
    -- jobs' rows only.
    SELECT ordinal, job_id, payload_sha256, last_stored_sha256 AS previous_sha256
    FROM bodies
    WHERE NOT repeated
    UNION ALL
    SELECT ordinal, job_id, payload_sha256,
           coalesce(lag(payload_sha256) OVER (PARTITION BY job_id ORDER BY ordinal),
                    last_stored_sha256) AS previous_sha256
    FROM bodies
    WHERE repeated
),

new AS (
    SELECT
        ordinal,
        -- After the last payload_seq handed out: the highest in raw.latest_payloads (the
        -- newest payload overall is the newest of its job). The job of core's watermark
        -- holds one at least that high there, so only rows from the watermark on are
        -- read (zone maps skip the rest; rows are appended in payload_seq order).
        (SELECT coalesce(max(payload_seq), 0) FROM raw.latest_payloads
         WHERE payload_seq >= (SELECT coalesce(max(payload_seq), 0) FROM ops.core_watermark))
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
