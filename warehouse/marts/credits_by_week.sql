-- marts.credits_by_week: per ISO week of created_at (UTC; `week` is its Monday) and
-- job_type, the credits the jobs cost and what went to failures and to retries.
-- Parameters: $credit_prices (a list of {job_type, price}: the prices in force, defaults
-- in warehouse/credits.py), $now (TIMESTAMPTZ: when the refresh runs).
-- A job costs its type's price (0 for a type without one). credits_failed: jobs whose
-- status is FAILED or CANCELED (terminal). credits_retried: jobs that are retries, i.e. a
-- job of the same type and target (lower(target_type), target_id) created at or after the
-- end (core.jobs.terminal_at) of another such job that ended FAILED or CANCELED, and at
-- most 7 days after it. A retry counts once however many failures it follows; a job
-- without a target is never a retry and never retried; a failure with no known end is
-- never retried; a job without created_at (week NULL) is never a retry. A retry that
-- fails too counts in both columns.
WITH prices AS (
    SELECT price.job_type, price.price
    FROM (SELECT unnest($credit_prices::STRUCT(job_type VARCHAR, price DOUBLE)[]) AS price)
),

source AS (
    SELECT
        jobs.job_id,
        jobs.job_type,
        jobs.status IN ('FAILED', 'CANCELED') AS ended_failed,
        lower(jobs.target_type) AS target_type,
        jobs.target_id,
        jobs.created_at,
        jobs.terminal_at,
        coalesce(prices.price, 0.0) AS price
    FROM core.jobs AS jobs
    LEFT JOIN prices ON prices.job_type = jobs.job_type
),

failures AS (
    SELECT job_id, job_type, target_type, target_id, terminal_at AS failed_at
    FROM source
    WHERE ended_failed AND terminal_at IS NOT NULL
      AND target_type IS NOT NULL AND target_id IS NOT NULL
),

retries AS (
    SELECT DISTINCT retry.job_id
    FROM source AS retry
    INNER JOIN failures
        ON retry.job_type = failures.job_type
        AND retry.target_type = failures.target_type
        AND retry.target_id = failures.target_id
        AND retry.job_id <> failures.job_id
    WHERE retry.created_at >= failures.failed_at
      AND retry.created_at <= failures.failed_at + INTERVAL 7 DAY
),

flagged AS (
    SELECT
        source.*,
        retries.job_id IS NOT NULL AS is_retry,
        date_trunc('week', source.created_at)::DATE AS week
    FROM source
    LEFT JOIN retries ON retries.job_id = source.job_id
)

SELECT
    week,
    strftime(week, '%G-W%V') AS iso_week,
    job_type,
    any_value(price) AS price,
    count(*) AS jobs,
    count(*) FILTER (WHERE ended_failed) AS jobs_failed,
    count(*) FILTER (WHERE is_retry) AS jobs_retried,
    sum(price) AS credits,
    coalesce(sum(price) FILTER (WHERE ended_failed), 0.0) AS credits_failed,
    coalesce(sum(price) FILTER (WHERE is_retry), 0.0) AS credits_retried,
    week IS NOT NULL AND week + INTERVAL 7 DAY <= $now AS week_complete
FROM flagged
GROUP BY week, job_type
