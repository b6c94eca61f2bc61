-- Schema version 7: core derives from raw in its own step.
-- ops.core_watermark (one row): the highest raw.job_payloads.payload_seq core has
-- derived; the core step processes the payloads stored since, chunk by chunk, moving it
-- in each chunk's transaction. Until this version loading kept core current batch by
-- batch, so an existing warehouse's core already holds all of raw.
CREATE TABLE ops.core_watermark (
    payload_seq BIGINT NOT NULL,   -- core holds every raw payload up to this payload_seq
    derived_at  TIMESTAMPTZ        -- when the core step last moved it
);

INSERT INTO ops.core_watermark
SELECT coalesce(max(payload_seq), 0), now() FROM raw.job_payloads;
