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
-- Set-based: one sweep per parent ranks the children and finds each step's child, and each
-- step of the walk is one join of the recursive CTE.
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

-- One sweep per parent ranks its finished children and answers the walk's question, "which
-- child does the walk take at moment t?": children are ranked by (end, start, job_id DESC),
-- so the child taken at t is the highest rank among those ending at or before t, i.e. the
-- number of children ending by t. The sweep orders each child's end (kind 0) and each
-- moment asked about (kind 1: a child's start, for the step after it; the parent's own end,
-- for its first step) by time, ends first at a tie, and counts the ends so far.
moments AS (
    SELECT parent_id, ended_at AS moment, 0 AS kind, started_at, job_id,
           NULL::BOOLEAN AS asked_by_parent
    FROM jobs
    WHERE parent_id IS NOT NULL AND ended_at >= started_at
    UNION ALL
    SELECT parent_id, started_at, 1, NULL, job_id, false
    FROM jobs
    WHERE parent_id IS NOT NULL AND ended_at >= started_at
    UNION ALL
    SELECT job_id, ended_at, 1, NULL, job_id, true
    FROM jobs
    WHERE ended_at IS NOT NULL
      AND job_id IN (SELECT parent_id FROM jobs WHERE parent_id IS NOT NULL)
),

swept AS MATERIALIZED (
    SELECT
        parent_id, kind, started_at, moment AS ended_at, job_id, asked_by_parent,
        sum(1 - kind) OVER (
            PARTITION BY parent_id ORDER BY moment, kind, started_at, job_id DESC
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS ended_by
    FROM moments
),

-- Each finished child with its rank, the step after it in its parent's walk (the last
-- child to end at or before its start, never itself or one preferred to it; NULL: none)
-- and the first step of its own walk (NULL: no child of its ends by its end).
children AS MATERIALIZED (
    SELECT
        ranked.job_id,
        ranked.parent_id,
        ranked.started_at,
        ranked.ended_at,
        ranked.ended_by AS child_rank,
        nullif(least(after_it.ended_by, ranked.ended_by - 1), 0) AS next_rank,
        nullif(first_step.ended_by, 0) AS first_rank
    FROM swept AS ranked
    INNER JOIN swept AS after_it
        ON after_it.job_id = ranked.job_id AND after_it.kind = 1 AND NOT after_it.asked_by_parent
    LEFT JOIN swept AS first_step
        ON first_step.job_id = ranked.job_id AND first_step.asked_by_parent
    WHERE ranked.kind = 0
),

roots AS MATERIALIZED (
    SELECT jobs.job_id, jobs.job_type, jobs.parent_id, jobs.started_at, jobs.ended_at,
           nullif(first_step.ended_by, 0) AS first_rank
    FROM jobs
    SEMI JOIN (SELECT DISTINCT parent_id FROM jobs WHERE parent_id IS NOT NULL) AS parents
        ON parents.parent_id = jobs.job_id
    LEFT JOIN swept AS first_step
        ON first_step.job_id = jobs.job_id AND first_step.asked_by_parent
    WHERE jobs.ended_at >= jobs.started_at
      AND (jobs.parent_id IS NULL
           OR NOT EXISTS (SELECT 1 FROM jobs AS parent WHERE parent.job_id = jobs.parent_id))
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
-- is taken) to t; with the job's type and first RUNNING event.
own AS MATERIALIZED (
    SELECT
        walk.root_id,
        walk.job_id,
        jobs.job_type,
        walk.depth,
        coalesce(child.ended_at, walk.clip_start) AS own_start,
        walk.t AS own_end,
        jobs.first_running_at
    FROM walk
    LEFT JOIN children AS child
        ON child.parent_id = walk.job_id AND child.child_rank = walk.child_rank
        AND child.ended_at > walk.clip_start
    INNER JOIN jobs ON jobs.job_id = walk.job_id
),

-- Split at the job's first RUNNING event: queued before it, running from it.
phased AS (
    SELECT root_id, job_id, job_type, depth, 'queued' AS phase, own_start AS segment_start,
           least(own_end, coalesce(first_running_at, own_end)) AS segment_end
    FROM own
    UNION ALL
    SELECT root_id, job_id, job_type, depth, 'running' AS phase,
           greatest(own_start, first_running_at) AS segment_start, own_end AS segment_end
    FROM own
    WHERE first_running_at IS NOT NULL
),

-- `complete`: every job of the tree has a known end, and the root's parent (if it names
-- one) was loaded: otherwise the tree is the visible part of a bigger one. The jobs
-- without a known end are few (those in flight): their ancestors, walked up from them
-- (UNION: a cycle of parent_id ends the walk), are the jobs with an unfinished descendant.
unfinished (ancestor_id) AS (
    SELECT parent_id
    FROM jobs
    WHERE parent_id IS NOT NULL AND NOT coalesce(ended_at >= started_at, false)
    UNION
    SELECT jobs.parent_id
    FROM unfinished
    INNER JOIN jobs ON jobs.job_id = unfinished.ancestor_id
    WHERE jobs.parent_id IS NOT NULL
),

trees AS (
    SELECT
        roots.job_id AS root_id,
        roots.job_type AS root_type,
        seconds_between(roots.started_at, roots.ended_at) AS total_seconds,
        roots.parent_id IS NULL
            AND roots.job_id NOT IN (SELECT ancestor_id FROM unfinished) AS complete
    FROM roots
)

SELECT
    phased.root_id,
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
INNER JOIN trees USING (root_id)
WHERE phased.segment_end > phased.segment_start
