-- Which job types waste the most credits on failures?
-- Credits per job type over all weeks: spent, spent on jobs that ended FAILED or CANCELED,
-- and spent on retries of them (a retry that fails too counts in both). Prices are the
-- ones in force at the last refresh (docs/api-contract.md, "Credits"); types without a
-- price cost 0 and are left out.
SELECT
    job_type,
    any_value(price) AS price,
    sum(jobs) AS jobs,
    sum(jobs_failed) AS jobs_failed,
    sum(credits) AS credits,
    sum(credits_failed) AS credits_failed,
    sum(credits_retried) AS credits_retried,
    round(sum(credits_failed) / sum(credits), 4) AS failed_share
FROM marts.credits_by_week
GROUP BY job_type
HAVING sum(credits) > 0
ORDER BY credits_failed DESC, credits DESC, job_type
