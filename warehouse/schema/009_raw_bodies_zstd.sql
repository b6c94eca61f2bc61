-- Schema version 9: the response bodies are stored with zstd.
-- DuckDB's automatic choice for the body columns is DICT_FSST, which on JSON bodies
-- compressed 755 MB to 333 MB and was the largest single cost of landing a batch;
-- zstd compressed the same bodies to 96 MB in 30% less time (benchmarks/
-- bench_warehouse.py, 1M jobs). The table is recreated with the same columns in the same
-- order; a column's compression can only be set when it is created.
CREATE TABLE raw.job_payloads_v9 (
    job_id            VARCHAR NOT NULL,
    fetched_at        TIMESTAMPTZ NOT NULL,
    payload           JSON USING COMPRESSION zstd,     -- the response body exactly as sent (NULL if not JSON)
    payload_sha256    VARCHAR NOT NULL,
    payload_seq       BIGINT NOT NULL,                 -- load order; "latest payload" means highest seq
    payload_text      VARCHAR USING COMPRESSION zstd,  -- the body when it is not valid JSON
    quarantine_reason VARCHAR                          -- why the payload could not be understood
);

INSERT INTO raw.job_payloads_v9 SELECT * FROM raw.job_payloads ORDER BY payload_seq;
DROP TABLE raw.job_payloads;
ALTER TABLE raw.job_payloads_v9 RENAME TO job_payloads;
