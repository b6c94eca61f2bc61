CREATE OR REPLACE TEMP TABLE _ids AS
-- land: the IDs of a request (temp table _ids_arrow), trimmed, blanks dropped, each once.
SELECT DISTINCT trim(job_id) AS job_id FROM _ids_arrow
WHERE job_id IS NOT NULL AND trim(job_id) <> ''
