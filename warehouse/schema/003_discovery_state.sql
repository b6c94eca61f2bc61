-- Schema version 3: the discovery watermark, so each run lists only what is new.
CREATE TABLE ops.discovery_state (
    source     VARCHAR PRIMARY KEY,   -- 'jobs_list': GET /jobs?created_after=...
    watermark  TIMESTAMPTZ NOT NULL,  -- the newest created_at registered so far
    updated_at TIMESTAMPTZ NOT NULL
);
