-- Is there current data to judge? Whether the last refresh of marts.regressions had any job
-- in its current window, and when the newest job loaded was created. One row; read by the
-- summary, the report and the regressions check through warehouse/what_changed.py, which
-- takes the last successful fetch from the freshness check's rule (checks/freshness.sql).
SELECT
    coalesce((SELECT bool_or(current_n > 0) FROM marts.regressions), false) AS has_current_data,
    (SELECT max(created_at) FROM core.jobs) AS newest_created_at
