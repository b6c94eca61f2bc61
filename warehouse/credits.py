"""Credits: the price of each job type, in one place, and its bind parameter.

Bedrock bills operations in credits. The public API docs' credits page lists parse 5,
compare 10, evaluate 5, classify 3 and search 5 credits per operation; we read each
operation as the job type of the same name, and every other type (children included)
costs 0 until a price is set (docs/api-contract.md, "Credits"). The rules of what counts
as failed or retried live in `marts/credits_by_week.sql`; this module only supplies the
prices it binds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

DEFAULT_PRICES: Mapping[str, float] = MappingProxyType({
    "parse": 5.0,
    "compare": 10.0,
    "evaluate": 5.0,
    "classify": 3.0,
    "search": 5.0,
})
"""Credits per job of each type (docs/api-contract.md, "Credits"); other types cost 0."""


def prices_in_force(prices: Mapping[str, float] | None = None) -> dict[str, float]:
    """The defaults with `prices` set over them: a type set here gets that price (0 stops
    counting it), the other defaults stay. Refuses an empty type or a price that is negative
    or not a finite number."""
    chosen = {**DEFAULT_PRICES, **(prices or {})}
    for job_type, price in chosen.items():
        if not isinstance(job_type, str) or not job_type.strip():
            raise ValueError(f"a credit price needs a job type, got {job_type!r}")
        if not math.isfinite(float(price)) or float(price) < 0:
            raise ValueError(f"the credit price of {job_type!r} must be a number >= 0, "
                             f"got {price!r}")
    return {job_type: float(price) for job_type, price in sorted(chosen.items())}


def price_params(prices: Mapping[str, float] | None = None) -> dict[str, Any]:
    """The bind parameter of the credits model: `$credit_prices`, a list of
    {job_type, price} (a value, never SQL text)."""
    return {"credit_prices": [{"job_type": job_type, "price": price}
                              for job_type, price in prices_in_force(prices).items()]}
