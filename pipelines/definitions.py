"""The code location's one registry, loaded by `workspace.yaml`.

Assets, checks, jobs, schedules, sensors and resources are registered here as
the pipeline issue adds them.
"""

import dagster as dg

defs = dg.Definitions()
