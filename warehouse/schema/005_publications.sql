-- Schema version 5: when the read-only copy (<stem>.read.duckdb) was published, so a
-- reader of the copy can ask how fresh it is: SELECT max(published_at) FROM ops.publications.
CREATE TABLE ops.publications (
    published_at TIMESTAMPTZ NOT NULL,  -- the copy holds every row committed before this
    run_id       VARCHAR,               -- the Dagster run that published it (NULL outside a run)
    trigger      VARCHAR NOT NULL       -- 'run end', or 'during fetch' for the periodic copies
);
