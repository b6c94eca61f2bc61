-- Staging: one row per payload in scope (temp table or view _payload_scope), parsed
-- once. Both documented shapes are read into one set of columns (docs/api-contract.md, "Job shapes"): `data`
-- unwrapped, id from `id` or `job_id`, target from `target_type/target_id` or
-- `target{type,id}`. The verdict (NULL, or the first reason to quarantine: job-level,
-- then the first bad event in array order) is decided here, and for a payload that
-- passes, `events` is its events as a list ordered by (time, array position) with
-- exact duplicates (same canonical status, same instant) dropped, first kept. The
-- per-job event figures the marts need are read off that list, so neither core nor
-- the marts sort or window the events table.
WITH source AS (
    SELECT
        job_id,
        payload_seq,
        fetched_at,
        payload,
        bedrock_job_document(payload) AS doc,
        payload IS NOT NULL AND regexp_matches(payload, '^\s*\{') AS is_object
    FROM _payload_scope
),

unwrapped AS (
    SELECT
        job_id,
        payload_seq,
        fetched_at,
        payload,
        is_object,
        coalesce(doc.data.id, doc.data.job_id) IS NOT NULL AS wrapped,
        coalesce(doc.data.id, doc.data.job_id, doc.id, doc.job_id) AS payload_job_id,
        coalesce(doc.data.organization_id, doc.organization_id) AS organization_id,
        coalesce(doc.data.project_id, doc.project_id) AS project_id,
        coalesce(doc.data.type, doc.type) AS job_type,
        coalesce(doc.data.status, doc.status) AS reported_status_raw,
        coalesce(doc.data.target_type, doc.data.target.type,
                 doc.target_type, doc.target.type) AS target_type,
        coalesce(doc.data.target_id, doc.data.target.id,
                 doc.target_id, doc.target.id) AS target_id,
        coalesce(doc.data.parent_id, doc.parent_id) AS parent_id,
        coalesce(doc.data.payload, doc.payload) AS job_payload,
        coalesce(doc.data.results, doc.results) AS results,
        coalesce(doc.data.error.code, doc.error.code) AS error_code,
        coalesce(doc.data.error.message, doc.error.message) AS error_message,
        coalesce(doc.data.events, doc.events) AS raw_events,
        coalesce(doc.data.created_at, doc.created_at) AS created_at_raw,
        coalesce(doc.data.updated_at, doc.updated_at) AS updated_at_raw,
        coalesce(doc.data.completed_at, doc.completed_at) AS completed_at_raw
    FROM source
),

cleaned AS (
    SELECT
        *,
        TRY_CAST(created_at_raw AS TIMESTAMPTZ) AS created_at,
        TRY_CAST(updated_at_raw AS TIMESTAMPTZ) AS updated_at,
        TRY_CAST(completed_at_raw AS TIMESTAMPTZ) AS completed_at,
        -- What `events` is when it is not a list of objects; only looked up when the
        -- typed read gave nothing (a second parse, so only for those rows).
        CASE
            WHEN raw_events IS NULL AND is_object THEN coalesce(
                json_type(payload, '$.data.events'), json_type(payload, '$.events'), 'MISSING')
        END AS events_json_type,
        list_transform(raw_events, lambda e: {
            'event_at': TRY_CAST(e.timestamp AS TIMESTAMPTZ),
            'status': canonical_status(e.status),
            'status_raw': e.status
        }) AS parsed_events
    FROM unwrapped
),

judged AS (
    SELECT
        *,
        CASE
            WHEN payload IS NULL THEN 'payload is not valid JSON'
            WHEN NOT is_object THEN 'payload is not a JSON object'
            WHEN payload_job_id IS NULL THEN 'payload has no id or job_id'
            WHEN payload_job_id <> job_id
                THEN 'payload id ' || payload_job_id || ' is not the requested id'
            WHEN events_json_type NOT IN ('NULL', 'MISSING', 'ARRAY')
                THEN 'events is not a list (' || lower(events_json_type) || ')'
            WHEN created_at_raw IS NOT NULL AND created_at IS NULL
                THEN 'unparseable created_at: ' || created_at_raw
            WHEN updated_at_raw IS NOT NULL AND updated_at IS NULL
                THEN 'unparseable updated_at: ' || updated_at_raw
            WHEN completed_at_raw IS NOT NULL AND completed_at IS NULL
                THEN 'unparseable completed_at: ' || completed_at_raw
        END AS job_quarantine_reason,
        -- The first event without a status or a readable timestamp (NULL: none).
        list_position(list_transform(parsed_events, lambda e:
            e.status_raw IS NULL OR e.event_at IS NULL), true) AS bad_index
    FROM cleaned
),

verdicts AS (
    SELECT
        * EXCLUDE (job_quarantine_reason, bad_index, raw_events),
        coalesce(job_quarantine_reason, CASE
            WHEN bad_index IS NULL OR bad_index = 0 THEN NULL
            WHEN raw_events[bad_index].status IS NULL AND raw_events[bad_index].timestamp IS NULL
                THEN 'event ' || bad_index || ' has no status and no timestamp'
            WHEN raw_events[bad_index].status IS NULL
                THEN 'event ' || bad_index || ' has no status'
            WHEN raw_events[bad_index].timestamp IS NULL
                THEN 'event ' || bad_index || ' has no timestamp'
            ELSE 'unparseable event timestamp: ' || raw_events[bad_index].timestamp
        END) AS quarantine_reason
    FROM judged
),

checked AS (
    SELECT
        *,
        -- Strictly increasing times (the usual case): already in order, and no two
        -- events share an instant, so there is no duplicate to drop. One pass over
        -- neighbours; cheaper than comparing with a sorted copy.
        coalesce(list_bool_and(list_transform(range(1, len(parsed_events)),
            lambda i: parsed_events[i].event_at < parsed_events[i + 1].event_at)), true)
            AS strictly_increasing
    FROM verdicts
),

keyed AS (
    SELECT
        *,
        -- The others' events as (status, instant), built once per payload: a duplicate is
        -- an event whose key appears earlier in the list.
        CASE WHEN quarantine_reason IS NULL AND NOT strictly_increasing THEN
            list_transform(parsed_events, lambda e: {'status': e.status, 't': e.event_at})
        END AS event_keys
    FROM checked
),

ordered AS (
    SELECT
        * EXCLUDE (parsed_events, strictly_increasing, event_keys),
        CASE
            WHEN quarantine_reason IS NOT NULL THEN NULL
            WHEN strictly_increasing THEN parsed_events
            -- Times that only repeat (events at the same instant, written in order): array
            -- order is already (time, array position), so only the duplicates go, the
            -- first of each (status, instant) kept.
            WHEN list_bool_and(list_transform(range(1, len(parsed_events)),
                    lambda i: parsed_events[i].event_at <= parsed_events[i + 1].event_at))
                THEN list_filter(parsed_events, lambda e, i:
                    list_position(event_keys, event_keys[i]) = i)
            -- Else the same, then sorted by (time, array position): field order matters,
            -- list_sort orders by event_at, then array_index.
            ELSE list_transform(list_sort(list_filter(
                list_transform(parsed_events, lambda e, i: {
                    'event_at': e.event_at, 'array_index': i,
                    'status': e.status, 'status_raw': e.status_raw}),
                lambda e, i: list_position(event_keys, event_keys[i]) = i)),
                lambda e: {'event_at': e.event_at, 'status': e.status, 'status_raw': e.status_raw})
        END AS events
    FROM keyed
),

-- The statuses alone, for the figures below (list_position needs a list of values).
statuses AS (
    SELECT
        *,
        list_transform(events, lambda e: e.status) AS event_statuses
    FROM ordered
),

final AS (
    SELECT
        *,
        -- Positions (1-based) where a run of one status starts.
        list_filter(range(1, len(event_statuses) + 1), lambda i:
            i = 1 OR event_statuses[i - 1] <> event_statuses[i]) AS run_starts,
        canonical_status(reported_status_raw) AS reported_status
    FROM statuses
),

-- Terminal means finished (the rule: job_is_terminal, schema/macros.sql).
judged_terminal AS (
    SELECT *, job_is_terminal(reported_status, events[-1].status) AS is_terminal
    FROM final
)

SELECT
    job_id,
    payload_seq,
    fetched_at,
    wrapped,
    organization_id,
    project_id,
    job_type,
    reported_status_raw,
    reported_status,
    target_type,
    target_id,
    parent_id,
    job_payload,
    results,
    error_code,
    error_message,
    created_at,
    updated_at,
    completed_at,
    quarantine_reason,
    events,
    coalesce(len(events), 0)::INTEGER AS n_events,
    events[1].event_at AS first_event_at,
    events[list_position(event_statuses, 'RUNNING')].event_at AS first_running_at,
    is_terminal,
    -- A job's end and its retried failures: the rules are macros (schema/macros.sql).
    job_end(events, is_terminal, completed_at, updated_at) AS terminal_at,
    retried_failures(event_statuses) AS failed_attempts,
    coalesce(len(list_filter(run_starts, lambda i: event_statuses[i] = 'RUNNING')), 0)::INTEGER
        AS run_attempts,
    events[run_starts[-1]].event_at AS status_since,
    events[-1].status AS last_event_status,
    events[-1].status_raw AS last_event_status_raw
FROM judged_terminal
