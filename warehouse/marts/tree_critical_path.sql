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
-- Set-based: children are ranked per parent by (end, start, job_id DESC), so "the child
-- that ends last at or before t" is the highest rank among those ending by t (an ASOF
-- join), and each step of the walk is one join of the recursive CTE.
WITH RECURSIVE jobs AS (
    SELECT
        job_id,
        job_type,
        parent_id,
        coalesce(first_event_at, created_at) AS started_at,
        terminal_at AS ended_at,
        first_running_at
    FROM core.jobs
),

-- Finished children with a known interval, in the walk's order of preference.
ranked AS (
    SELECT
        job_id, parent_id, started_at, ended_at,
        row_number() OVER (PARTITION BY parent_id ORDER BY ended_at, started_at, job_id DESC)
            AS child_rank
    FROM jobs
    WHERE parent_id IS NOT NULL AND ended_at >= started_at
),

-- Per parent and end instant, the highest rank ending then: the ASOF joins below find, for
-- a moment t, the rank of the child the walk takes at t.
ends AS (
    SELECT parent_id, ended_at, max(child_rank) AS child_rank
    FROM ranked
    GROUP BY parent_id, ended_at
),

-- Each finished job that has finished children: the first child its walk takes (the last
-- to end at or before its own end).
firsts AS (
    SELECT jobs.job_id, ends.child_rank AS first_rank
    FROM (SELECT job_id, ended_at FROM jobs
          WHERE ended_at IS NOT NULL AND job_id IN (SELECT parent_id FROM ends)) AS jobs
    ASOF INNER JOIN ends ON ends.parent_id = jobs.job_id AND ends.ended_at <= jobs.ended_at
),

-- Each child with the step after it in its parent's walk (the last child to end at or
-- before its start, never itself or one preferred to it) and the first step into it.
children AS (
    SELECT
        ranked.*,
        -- least() skips a NULL: no child ends by its start, no next step
        CASE WHEN before.child_rank IS NOT NULL
             THEN least(before.child_rank, ranked.child_rank - 1) END AS next_rank,
        firsts.first_rank
    FROM ranked
    ASOF LEFT JOIN ends AS before
        ON before.parent_id = ranked.parent_id AND before.ended_at <= ranked.started_at
    LEFT JOIN firsts USING (job_id)
),

roots AS (
    SELECT jobs.job_id, jobs.job_type, jobs.parent_id, jobs.started_at, jobs.ended_at,
           firsts.first_rank
    FROM jobs
    LEFT JOIN firsts USING (job_id)
    WHERE jobs.ended_at >= jobs.started_at
      AND jobs.job_id IN (SELECT parent_id FROM jobs WHERE parent_id IS NOT NULL)
      AND (jobs.parent_id IS NULL
           OR jobs.parent_id NOT IN (SELECT job_id FROM jobs))
),

-- The walk: each row is a job of the path at moment t, about to take the child of rank
-- child_rank (NULL: none left); clip_start is the start of its interval clipped to its
-- parent's. A taken child gives two rows: its parent at the child's clipped start, and the
-- child at its own end.
walk (root_id, job_id, depth, clip_start, t, child_rank) AS (
    SELECT job_id, job_id, 0, started_at, ended_at, first_rank
    FROM roots
    UNION ALL
    SELECT
        walk.root_id,
        CASE WHEN step.descend THEN child.job_id ELSE walk.job_id END,
        walk.depth + CASE WHEN step.descend THEN 1 ELSE 0 END,
        CASE WHEN step.descend THEN greatest(child.started_at, walk.clip_start)
             ELSE walk.clip_start END,
        CASE WHEN step.descend THEN child.ended_at
             ELSE greatest(child.started_at, walk.clip_start) END,
        CASE WHEN step.descend THEN child.first_rank ELSE child.next_rank END
    FROM walk
    INNER JOIN children AS child
        ON child.parent_id = walk.job_id AND child.child_rank = walk.child_rank
        AND child.ended_at > walk.clip_start
    CROSS JOIN (VALUES (false), (true)) AS step (descend)
),

-- Each walk row's own time: from the taken child's end (or the clipped start when no child
-- is taken) to t.
own AS (
    SELECT
        walk.root_id,
        walk.job_id,
        walk.depth,
        coalesce(child.ended_at, walk.clip_start) AS own_start,
        walk.t AS own_end
    FROM walk
    LEFT JOIN children AS child
        ON child.parent_id = walk.job_id AND child.child_rank = walk.child_rank
        AND child.ended_at > walk.clip_start
),

-- Split at the job's first RUNNING event: queued before it, running from it.
phased AS (
    SELECT own.root_id, own.job_id, own.depth, 'queued' AS phase,
           own.own_start AS segment_start,
           least(own.own_end, coalesce(jobs.first_running_at, own.own_end)) AS segment_end
    FROM own INNER JOIN jobs USING (job_id)
    UNION ALL
    SELECT own.root_id, own.job_id, own.depth, 'running' AS phase,
           greatest(own.own_start, jobs.first_running_at) AS segment_start,
           own.own_end AS segment_end
    FROM own INNER JOIN jobs USING (job_id)
    WHERE jobs.first_running_at IS NOT NULL
),

-- Every job of each tree (the root included).
members (root_id, job_id, ended_at, started_at) AS (
    SELECT job_id, job_id, ended_at, started_at FROM roots
    UNION ALL
    SELECT members.root_id, jobs.job_id, jobs.ended_at, jobs.started_at
    FROM members
    INNER JOIN jobs ON jobs.parent_id = members.job_id
),

-- `complete`: every job of the tree has a known end, and the root's parent (if it names
-- one) was loaded: otherwise the tree is the visible part of a bigger one.
unfinished AS (
    SELECT root_id, count(*) FILTER (WHERE NOT coalesce(ended_at >= started_at, false)) AS n
    FROM members
    GROUP BY root_id
),

trees AS (
    SELECT
        roots.job_id AS root_id,
        roots.job_type AS root_type,
        seconds_between(roots.started_at, roots.ended_at) AS total_seconds,
        roots.parent_id IS NULL AND unfinished.n = 0 AS complete
    FROM roots
    INNER JOIN unfinished ON unfinished.root_id = roots.job_id
)

SELECT
    phased.root_id,
    trees.root_type,
    phased.job_id,
    jobs.job_type,
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
INNER JOIN trees USING (root_id)
INNER JOIN jobs USING (job_id)
WHERE phased.segment_end > phased.segment_start
