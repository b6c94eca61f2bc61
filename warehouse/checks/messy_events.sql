-- Payloads whose events array was out of time order or held exact duplicates
-- (both are repaired in core.job_events; this says how often the API sent them).
-- Reads each job's current response body from raw, whichever shape it came in.
WITH source AS (
    SELECT
        jobs.job_id,
        coalesce(raw.payload -> '$.data.events', raw.payload -> '$.events') AS events
    FROM core.jobs AS jobs
    INNER JOIN raw.job_payloads AS raw USING (job_id, payload_seq)
),
arrays AS (
    SELECT
        job_id,
        list_transform(
            json_extract_string(events, '$[*].timestamp'),
            lambda ts: TRY_CAST(ts AS TIMESTAMPTZ)
        ) AS stamps,
        json_array_length(events) AS n_array
    FROM source
    WHERE json_type(events) = 'ARRAY'
),
counted AS (
    SELECT arrays.*, coalesce(events.n_events, 0) AS n_events
    FROM arrays
    LEFT JOIN (SELECT job_id, count(*) AS n_events FROM core.job_events GROUP BY job_id)
        AS events USING (job_id)
)
SELECT
    count(*) FILTER (WHERE stamps <> list_sort(stamps) OR n_array > n_events) AS failures,
    count(*) FILTER (WHERE stamps <> list_sort(stamps)) AS unsorted,
    count(*) FILTER (WHERE n_array > n_events) AS with_duplicates
FROM counted
