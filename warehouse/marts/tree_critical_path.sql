-- marts.tree_critical_path: where a job tree's time goes, one row per segment of its
-- critical path (docs/trees.md). A tree is a finished job with no parent, or whose parent
-- was never loaded, and at least one known child. A job's interval is [first event (else
-- created_at), its end] with the end as core.jobs.terminal_at (the macro job_end).
-- The walk, as Jaeger finds a trace's critical path, over jobs: from the job's end t,
-- take the finished child that ends last at or before t (ties: the later start, then the
-- smaller job_id); the time from its end to t is the job's own; walk into that child over
-- its interval clipped to the parent's; set t to the child's (clipped) start; repeat; when
-- no child ends after the job's (clipped) start and at or before t, the rest back to that
-- start is the job's own. Own time is `queued` before the job's first RUNNING event and
-- `running` from it; zero-length segments are left out. A root's segments sum exactly to
-- its total_seconds.
-- Set-based: each parent's chain of taken children is found once, in one pass over its
-- children in the walk's order of preference; the recursion then only goes down the
-- levels of the trees (a few rounds), each round one join.
WITH RECURSIVE

-- Jobs are carried by their rowid in core.jobs (an integer, stable within this statement)
-- and named again at the end: the walk's lists and joins stay small.
-- Each parent's finished children, most preferred first (ends last; then the later start,
-- then the smaller job_id), and its chain: scanning them in that order, a child is taken
-- when it ends at or before t (t starts at the parent's end) and after the parent's start;
-- t then moves to its start. The child the definition takes next is always the first
-- later in this order to end by t. `until` is t when the child was taken.
families AS (
    SELECT
        parent_id,
        list({'rid': rowid, 'started_at': job_started_at(first_event_at, created_at),
              'ended_at': terminal_at}
             ORDER BY terminal_at DESC, job_started_at(first_event_at, created_at) DESC,
                      job_id) AS kids
    FROM core.jobs
    WHERE parent_id IS NOT NULL AND has_known_interval(first_event_at, created_at, terminal_at)
    GROUP BY parent_id
),

links AS (
    SELECT parent_rid, unnest(taken, max_depth := 2)
    FROM (
        SELECT
            parents.rid AS parent_rid,
            list_reduce(families.kids, lambda acc, kid:
                CASE WHEN kid.ended_at <= acc.t AND kid.ended_at > parents.started_at
                    THEN {'t': greatest(kid.started_at, parents.started_at),
                          'taken': list_append(acc.taken, {'rid': kid.rid,
                              'started_at': kid.started_at, 'ended_at': kid.ended_at,
                              'until': acc.t})}
                    ELSE acc END,
                {'t': parents.ended_at,
                 'taken': []::STRUCT(rid BIGINT, started_at TIMESTAMPTZ,
                                     ended_at TIMESTAMPTZ, until TIMESTAMPTZ)[]}).taken AS taken
        FROM families
        INNER JOIN (
            SELECT rowid AS rid, job_id, job_started_at(first_event_at, created_at) AS started_at,
                   terminal_at AS ended_at
            FROM core.jobs
            WHERE terminal_at IS NOT NULL
        ) AS parents ON parents.job_id = families.parent_id
    )
),

-- Trees: finished jobs with a known child, whose parent_id is NULL or names a job never
-- loaded.
candidates AS (
    SELECT
        jobs.rowid AS rid,
        jobs.job_type,
        jobs.parent_id,
        job_started_at(jobs.first_event_at, jobs.created_at) AS started_at,
        jobs.terminal_at AS ended_at
    FROM core.jobs AS jobs
    SEMI JOIN (SELECT DISTINCT parent_id FROM core.jobs WHERE parent_id IS NOT NULL) AS parents
        ON parents.parent_id = jobs.job_id
    WHERE has_known_interval(jobs.first_event_at, jobs.created_at, jobs.terminal_at)
),

roots AS (
    SELECT candidates.*
    FROM candidates
    WHERE (candidates.parent_id IS NULL
           OR candidates.parent_id NOT IN (
               SELECT job_id FROM core.jobs
               WHERE job_id IN (SELECT parent_id FROM candidates)))
),

-- The jobs on each tree's path, level by level: the root over its interval, then each
-- taken child over its own, clipped to its parent's (clip_start). Of a parent's chain only
-- the children ending after its clipped start are walked: t only decreases along a chain,
-- so they are its first ones.
path (root_rid, rid, depth, clip_start, ended_at) AS (
    SELECT rid, rid, 0, started_at, ended_at FROM roots
    UNION ALL
    SELECT path.root_rid, links.rid, path.depth + 1,
           greatest(links.started_at, path.clip_start), links.ended_at
    FROM path
    INNER JOIN links ON links.parent_rid = path.rid AND links.ended_at > path.clip_start
),

-- Each job's own time: before each taken child, from the child's end to t; and last, from
-- the clipped start to t after the last taken child (its clipped start), or to the job's
-- end when it took none.
own AS (
    SELECT path.root_rid, path.rid, path.depth, links.ended_at AS own_start,
           links.until AS own_end
    FROM path
    INNER JOIN links ON links.parent_rid = path.rid AND links.ended_at > path.clip_start
    UNION ALL
    SELECT path.root_rid, path.rid, path.depth, path.clip_start,
           -- (greatest() would skip the NULL of a job without taken children)
           coalesce(min(greatest(links.started_at, path.clip_start))
                        FILTER (WHERE links.rid IS NOT NULL), path.ended_at)
    FROM path
    LEFT JOIN links ON links.parent_rid = path.rid AND links.ended_at > path.clip_start
    GROUP BY path.root_rid, path.rid, path.depth, path.clip_start, path.ended_at
),

-- Split at the job's first RUNNING event: queued before it, running from it.
phased AS (
    SELECT own.root_rid, jobs.job_id, jobs.job_type, own.depth, phase.name AS phase,
           CASE WHEN phase.name = 'queued' THEN own.own_start
                ELSE greatest(own.own_start, jobs.first_running_at) END AS segment_start,
           CASE WHEN phase.name = 'queued'
                THEN least(own.own_end, coalesce(jobs.first_running_at, own.own_end))
                ELSE own.own_end END AS segment_end
    FROM own
    INNER JOIN core.jobs AS jobs ON jobs.rowid = own.rid
    CROSS JOIN (VALUES ('queued'), ('running')) AS phase (name)
    WHERE phase.name = 'queued' OR jobs.first_running_at IS NOT NULL
),

-- `complete`: every job of the tree has a known end, and the root's parent (if it names
-- one) was loaded: otherwise the tree is the visible part of a bigger one. The jobs
-- without a known end are few (those in flight): their ancestors, walked up from them
-- (UNION: a cycle of parent_id ends the walk), are the jobs with an unfinished descendant.
unfinished (ancestor_id) AS (
    SELECT parent_id
    FROM core.jobs
    WHERE parent_id IS NOT NULL
      AND NOT has_known_interval(first_event_at, created_at, terminal_at)
    UNION
    SELECT jobs.parent_id
    FROM unfinished
    INNER JOIN core.jobs AS jobs ON jobs.job_id = unfinished.ancestor_id
    WHERE jobs.parent_id IS NOT NULL
),

trees AS (
    SELECT
        roots.rid AS root_rid,
        jobs.job_id AS root_id,
        roots.job_type AS root_type,
        seconds_between(roots.started_at, roots.ended_at) AS total_seconds,
        roots.parent_id IS NULL
            AND jobs.job_id NOT IN (SELECT ancestor_id FROM unfinished) AS complete
    FROM roots
    INNER JOIN core.jobs AS jobs ON jobs.rowid = roots.rid
)

SELECT
    trees.root_id,
    trees.root_type,
    phased.job_id,
    phased.job_type,
    phased.depth::INTEGER AS depth,
    phased.phase,
    phased.segment_start,
    phased.segment_end,
    seconds_between(phased.segment_start, phased.segment_end) AS seconds,
    CASE WHEN trees.total_seconds > 0
         THEN seconds_between(phased.segment_start, phased.segment_end) / trees.total_seconds
    END AS share,
    trees.complete
FROM phased
INNER JOIN trees USING (root_rid)
WHERE phased.segment_end > phased.segment_start
