"""A local simulator of the Bedrock jobs API, for the demo, the tests and the benchmarks.

The real API can't be reached from our machines, so the product ships this
stand-in, faithful to the documented contract
(`docs/api-contract.md`). It is never imported by the
production client.
"""

from pipelines.simulator.clock import Clock
from pipelines.simulator.faults import FaultConfig
from pipelines.simulator.generator import DataConfig, JobStore, Shift, SimJob
from pipelines.simulator.ratelimit import RateLimitConfig
from pipelines.simulator.render import RenderConfig
from pipelines.simulator.server import DEMO_API_KEY, Simulator, fetch_stats, prefer_low_latency

__all__ = [
    "DEMO_API_KEY",
    "Clock",
    "DataConfig",
    "FaultConfig",
    "JobStore",
    "RateLimitConfig",
    "RenderConfig",
    "Shift",
    "SimJob",
    "Simulator",
    "fetch_stats",
    "prefer_low_latency",
]
