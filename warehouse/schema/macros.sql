-- Session macros (TEMP: defined on every connection, never stored in the file).
-- The canonical status mapping (docs/api-contract.md, "Statuses and terminal states"): case-insensitive, and an
-- unknown spelling is kept as its trimmed upper-case form.
CREATE OR REPLACE TEMP MACRO canonical_status_any_case(u) AS
    CASE u
        WHEN 'PENDING' THEN 'PENDING'
        WHEN 'QUEUED' THEN 'PENDING'
        WHEN 'RUNNING' THEN 'RUNNING'
        WHEN 'STARTED' THEN 'RUNNING'
        WHEN 'COMPLETED' THEN 'COMPLETED'
        WHEN 'SUCCEEDED' THEN 'COMPLETED'
        WHEN 'FAILED' THEN 'FAILED'
        WHEN 'ERROR' THEN 'FAILED'
        WHEN 'CANCELED' THEN 'CANCELED'
        WHEN 'CANCELLED' THEN 'CANCELED'
        ELSE u
    END;
CREATE OR REPLACE TEMP MACRO canonical_status(s) AS
    -- The spellings the API documents, matched as sent (cheap: no string copies);
    -- anything else goes through the case-insensitive mapping below.
    CASE s
        WHEN 'PENDING' THEN 'PENDING'
        WHEN 'RUNNING' THEN 'RUNNING'
        WHEN 'COMPLETED' THEN 'COMPLETED'
        WHEN 'FAILED' THEN 'FAILED'
        WHEN 'CANCELED' THEN 'CANCELED'
        WHEN 'Queued' THEN 'PENDING'
        WHEN 'Started' THEN 'RUNNING'
        WHEN 'Completed' THEN 'COMPLETED'
        WHEN 'Failed' THEN 'FAILED'
        WHEN 'Canceled' THEN 'CANCELED'
        ELSE canonical_status_any_case(upper(trim(s)))
    END;
CREATE OR REPLACE TEMP MACRO is_terminal_status(s) AS
    coalesce(s IN ('COMPLETED', 'FAILED', 'CANCELED'), false);
-- Terminal means finished (core/jobs.sql): a job is terminal when its top-level status or
-- its last event is terminal. The one statement of the rule: core.jobs.is_terminal and the
-- fetch batch's ledger is_terminal both use it.
CREATE OR REPLACE TEMP MACRO job_is_terminal(reported_status, last_event_status) AS
    is_terminal_status(reported_status) OR is_terminal_status(last_event_status);
-- Microseconds since the epoch are exact for TIMESTAMPTZ, so their difference is the
-- exact duration; date_diff on TIMESTAMPTZ goes through ICU's calendar and costs ~70x.
CREATE OR REPLACE TEMP MACRO seconds_between(a, b) AS
    (epoch_us(CAST(b AS TIMESTAMPTZ)) - epoch_us(CAST(a AS TIMESTAMPTZ))) / 1e6;
-- Seconds from a to b when both are known and b is not before a; otherwise NULL (the
-- figure is unknown: no duration is ever negative). Every duration of a job uses it.
CREATE OR REPLACE TEMP MACRO elapsed_seconds(a, b) AS
    CASE WHEN b >= a THEN seconds_between(a, b) END;
-- A job's start: its first event, else created_at (a job's interval runs from it to its
-- end, job_end below). Durations, trees and critical paths all start a job here.
CREATE OR REPLACE TEMP MACRO job_started_at(first_event_at, created_at) AS
    coalesce(first_event_at, created_at);
-- A finished job with a known interval: its end is known and not before its start.
CREATE OR REPLACE TEMP MACRO has_known_interval(first_event_at, created_at, terminal_at) AS
    coalesce(terminal_at >= job_started_at(first_event_at, created_at), false);
-- Position (1-based) of the last true in a list of booleans; 0 when there is none.
CREATE OR REPLACE TEMP MACRO last_true_position(flags) AS
    coalesce(len(flags) + 1 - list_position(list_reverse(flags), true), 0);
-- A job's end (core.jobs.terminal_at, marts.job_durations.terminal_at; docs/api-contract.md,
-- "A job's end"), the one statement of the rule, over the job's events in time order
-- (a list of {status, event_at}, exact duplicates dropped):
-- - an open job (not is_terminal) has no end: NULL;
-- - a finished job without events ends at completed_at, else updated_at;
-- - a finished job ends at its last terminal event, unless a PENDING or RUNNING event
--   follows it, or it has none (the events were cut off): then at completed_at, else
--   updated_at, never before its last event (unknown, NULL, without either). A failed
--   attempt that was run again is not the end; no RUNNING event ever lies after the end.
CREATE OR REPLACE TEMP MACRO job_end_after(events, last_terminal, is_terminal, completed_at,
                                           updated_at) AS
    CASE
        WHEN NOT coalesce(is_terminal, false) THEN NULL
        WHEN coalesce(len(events), 0) = 0 THEN coalesce(completed_at, updated_at)
        WHEN last_terminal > 0 AND NOT list_has_any(
                list_transform(events[last_terminal + 1:], lambda e: e.status),
                ['PENDING', 'RUNNING'])
            THEN events[last_terminal].event_at
        -- greatest() skips a NULL: without completed_at or updated_at the end is unknown
        WHEN coalesce(completed_at, updated_at) IS NOT NULL
            THEN greatest(coalesce(completed_at, updated_at), events[-1].event_at)
    END;
CREATE OR REPLACE TEMP MACRO job_end(events, is_terminal, completed_at, updated_at) AS
    job_end_after(events,
                  last_true_position(list_transform(events, lambda e: is_terminal_status(e.status))),
                  is_terminal, completed_at, updated_at);
-- Failed attempts that were run again (marts.job_durations.failed_attempts): FAILED events
-- that a later RUNNING event followed, over the statuses in time order.
CREATE OR REPLACE TEMP MACRO retried_failures_before(statuses, last_running) AS
    len(list_filter(statuses, lambda s, i: s = 'FAILED' AND i < last_running))::INTEGER;
CREATE OR REPLACE TEMP MACRO retried_failures(statuses) AS
    coalesce(retried_failures_before(
        statuses, last_true_position(list_transform(statuses, lambda s: s = 'RUNNING'))), 0);
-- The 95% Wilson score interval of a proportion p over n trials (z = 1.96).
CREATE OR REPLACE TEMP MACRO wilson_low(p, n) AS
    CASE WHEN n > 0 THEN greatest(0.0,
        (p + 1.959963984540054 ^ 2 / (2 * n)
         - 1.959963984540054 * sqrt(p * (1 - p) / n + 1.959963984540054 ^ 2 / (4 * n * n)))
        / (1 + 1.959963984540054 ^ 2 / n)) END;
CREATE OR REPLACE TEMP MACRO wilson_high(p, n) AS
    CASE WHEN n > 0 THEN least(1.0,
        (p + 1.959963984540054 ^ 2 / (2 * n)
         + 1.959963984540054 * sqrt(p * (1 - p) / n + 1.959963984540054 ^ 2 / (4 * n * n)))
        / (1 + 1.959963984540054 ^ 2 / n)) END;
-- A response body parsed once into the fields the staging model reads, for both
-- documented shapes (docs/api-contract.md, "Job shapes"): the CMS envelope's `data` and the bare Vision
-- object. `payload` and `results` stay JSON.
CREATE OR REPLACE TEMP MACRO bedrock_job_document(body) AS from_json(body, '{
    "data": {"id": "VARCHAR", "job_id": "VARCHAR", "organization_id": "VARCHAR",
             "project_id": "VARCHAR", "type": "VARCHAR", "status": "VARCHAR",
             "target_type": "VARCHAR", "target_id": "VARCHAR",
             "target": {"type": "VARCHAR", "id": "VARCHAR"}, "parent_id": "VARCHAR",
             "payload": "JSON", "results": "JSON",
             "error": {"code": "VARCHAR", "message": "VARCHAR"},
             "events": [{"status": "VARCHAR", "timestamp": "VARCHAR"}],
             "created_at": "VARCHAR", "updated_at": "VARCHAR", "completed_at": "VARCHAR"},
    "id": "VARCHAR", "job_id": "VARCHAR", "organization_id": "VARCHAR",
    "project_id": "VARCHAR", "type": "VARCHAR", "status": "VARCHAR",
    "target_type": "VARCHAR", "target_id": "VARCHAR",
    "target": {"type": "VARCHAR", "id": "VARCHAR"}, "parent_id": "VARCHAR",
    "payload": "JSON", "results": "JSON",
    "error": {"code": "VARCHAR", "message": "VARCHAR"},
    "events": [{"status": "VARCHAR", "timestamp": "VARCHAR"}],
    "created_at": "VARCHAR", "updated_at": "VARCHAR", "completed_at": "VARCHAR"
    }');
-- Fisher's exact test, one-sided (is the current window worse?): P(X > x) + w·P(X = x)
-- for X ~ Hypergeometric(draws n_c, successes x_c + x_b, population n_c + n_b); w = 1 is
-- the exact test's p-value, w = 0.5 Lancaster's mid-p. DuckDB has no distribution
-- functions, so the probabilities are written here from lgamma (docs/what-changed.md).
CREATE OR REPLACE TEMP MACRO log_choose(a, b) AS
    lgamma(a + 1.0) - lgamma(b + 1.0) - lgamma(a - b + 1.0);
CREATE OR REPLACE TEMP MACRO hypergeometric_pmf(k, draws, successes, population) AS
    exp(log_choose(successes, k) + log_choose(population - successes, draws - k)
        - log_choose(population, draws));
CREATE OR REPLACE TEMP MACRO fisher_greater(x_c, n_c, x_b, n_b, w) AS
    CASE WHEN n_c > 0 AND n_b > 0 THEN least(1.0,
        coalesce(list_sum(list_transform(
            range(x_c + 1, least(x_c + x_b, n_c) + 1),
            lambda k: hypergeometric_pmf(k, n_c, x_c + x_b, n_c + n_b))), 0.0)
        + w * hypergeometric_pmf(x_c, n_c, x_c + x_b, n_c + n_b)) END;
CREATE OR REPLACE TEMP MACRO fisher_greater_midp(x_c, n_c, x_b, n_b) AS
    fisher_greater(x_c, n_c, x_b, n_b, 0.5);
-- ops.job_ledger.id_hash (schema 008): the first 64 bits of md5(job_id), equal to DuckDB's
-- md5_number_lower(job_id), which DuckDB builds from string casts (~5x slower).
CREATE OR REPLACE TEMP MACRO id_hash(job_id) AS (md5_number(job_id) >> 64)::UBIGINT;
