-- Schema version 1: every table of the warehouse contract (docs/data-dictionary.md).
-- Extra columns beyond the contract are marked "extra".
CREATE SCHEMA IF NOT EXISTS ops;
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS marts;

CREATE TABLE ops.job_ledger (
    job_id          VARCHAR NOT NULL,
    source          VARCHAR,
    requested_at    TIMESTAMPTZ,
    last_attempt_at TIMESTAMPTZ,
    attempts        INTEGER NOT NULL DEFAULT 0,
    outcome         VARCHAR NOT NULL DEFAULT 'pending',
    http_status     INTEGER,
    error_code      VARCHAR,
    error_detail    VARCHAR,
    request_id      VARCHAR,
    is_terminal     BOOLEAN NOT NULL DEFAULT false,
    loaded_at       TIMESTAMPTZ           -- extra: last attempt that returned a usable payload
);

CREATE TABLE raw.job_payloads (
    job_id            VARCHAR NOT NULL,
    fetched_at        TIMESTAMPTZ NOT NULL,
    payload           JSON,               -- the response body exactly as sent (NULL if not JSON)
    payload_sha256    VARCHAR NOT NULL,
    payload_seq       BIGINT NOT NULL,    -- extra: load order; "latest payload" means highest seq
    payload_text      VARCHAR,            -- extra: the body when it is not valid JSON
    quarantine_reason VARCHAR             -- extra: why the payload could not be understood
);

CREATE TABLE core.jobs (
    job_id          VARCHAR NOT NULL,
    organization_id VARCHAR,
    project_id      VARCHAR,
    job_type        VARCHAR,
    status          VARCHAR,
    status_raw      VARCHAR,
    target_type     VARCHAR,
    target_id       VARCHAR,
    parent_id       VARCHAR,
    created_at      TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ,
    completed_at    TIMESTAMPTZ,
    is_terminal     BOOLEAN,
    error_code      VARCHAR,
    error_message   VARCHAR,
    payload         JSON,
    fetched_at      TIMESTAMPTZ,
    reported_status     VARCHAR,          -- extra: canonical top-level `status` field
    reported_status_raw VARCHAR,          -- extra: top-level `status` as sent
    results         JSON,                 -- extra: Vision `results`
    payload_shape   VARCHAR,              -- extra: 'cms' (wrapped in data) or 'vision' (bare)
    payload_seq     BIGINT                -- extra: the raw.job_payloads row this state comes from
);

CREATE TABLE core.job_events (
    job_id     VARCHAR NOT NULL,
    event_seq  INTEGER NOT NULL,
    status     VARCHAR,
    status_raw VARCHAR,
    event_at   TIMESTAMPTZ
);

CREATE TABLE core.job_status_transitions (
    job_id           VARCHAR NOT NULL,
    transition_seq   INTEGER NOT NULL,
    from_status      VARCHAR,
    to_status        VARCHAR,
    from_at          TIMESTAMPTZ,
    to_at            TIMESTAMPTZ,
    duration_seconds DOUBLE
);

CREATE TABLE marts.job_durations (
    job_id           VARCHAR,
    job_type         VARCHAR,
    project_id       VARCHAR,
    final_status     VARCHAR,
    is_terminal      BOOLEAN,
    created_at       TIMESTAMPTZ,
    queued_seconds   DOUBLE,
    running_seconds  DOUBLE,
    total_seconds    DOUBLE,
    run_attempts     INTEGER,
    n_events         INTEGER,
    first_event_at   TIMESTAMPTZ,         -- extra
    first_running_at TIMESTAMPTZ,         -- extra
    terminal_at      TIMESTAMPTZ          -- extra: first terminal event (or completed_at/updated_at)
);

CREATE TABLE marts.failure_rates (
    day                  DATE,
    job_type             VARCHAR,
    jobs                 BIGINT,
    completed            BIGINT,
    failed               BIGINT,
    canceled             BIGINT,
    failure_rate         DOUBLE,
    failure_rate_ci_low  DOUBLE,
    failure_rate_ci_high DOUBLE
);

CREATE TABLE marts.duration_stats (
    job_type     VARCHAR,
    phase        VARCHAR,
    n            BIGINT,
    mean_seconds DOUBLE,
    p50_seconds  DOUBLE,
    p90_seconds  DOUBLE,
    p95_seconds  DOUBLE,
    p99_seconds  DOUBLE,
    max_seconds  DOUBLE
);

CREATE TABLE marts.transition_matrix (
    from_status  VARCHAR,
    to_status    VARCHAR,
    n            BIGINT,
    mean_seconds DOUBLE,
    p50_seconds  DOUBLE,
    p95_seconds  DOUBLE
);

CREATE TABLE marts.stuck_jobs (
    job_id            VARCHAR,
    job_type          VARCHAR,
    status            VARCHAR,
    status_since      TIMESTAMPTZ,
    age_seconds       DOUBLE,
    threshold_seconds DOUBLE
);

CREATE TABLE marts.job_trees (
    parent_id             VARCHAR,
    parent_type           VARCHAR,
    n_children            BIGINT,
    children_failed       BIGINT,
    children_canceled     BIGINT,
    parent_total_seconds  DOUBLE,
    children_span_seconds DOUBLE
);
