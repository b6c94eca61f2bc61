-- Payloads whose events array was out of time order or held exact duplicates
-- (both are repaired in core.job_events; this says how often the API sent them).
WITH source AS (
    SELECT
        job_id,
        coalesce(payload -> '$.data.events', payload -> '$.events') AS events
    FROM core.jobs
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
