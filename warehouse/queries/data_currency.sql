-- Is there current data to judge? Whether the last refresh of marts.regressions had any job
-- in its current window, when the newest job loaded was created, and when a fetch last
-- returned a usable payload (ops.job_ledger.loaded_at). One row; read by the summary, the
-- report and the regressions check through warehouse/what_changed.py.
SELECT
    coalesce((SELECT bool_or(current_n > 0) FROM marts.regressions), false) AS has_current_data,
    (SELECT max(created_at) FROM core.jobs) AS newest_created_at,
    (SELECT max(loaded_at) FROM ops.job_ledger) AS last_loaded_at
