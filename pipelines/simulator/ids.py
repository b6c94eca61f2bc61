"""Bedrock-looking identifiers (`job_01J…`), made deterministic from a seeded RNG.

The docs show ULID-like suffixes but never state the format, so clients must
treat IDs as opaque; the simulator still produces realistic, time-ordered ones.
"""

from __future__ import annotations

import random

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

# IDs encode time relative to this base, not to the simulator's epoch, so the
# same seed gives the same IDs whatever day the simulator is started on.
ID_TIME_BASE = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def make_id(prefix: str, rng: random.Random, relative_seconds: float = 0.0) -> str:
    """A ULID-shaped ID: 48-bit millisecond time + 80 random bits, Crockford base32."""
    millis = int((ID_TIME_BASE + relative_seconds) * 1000) & ((1 << 48) - 1)
    value = millis << 80 | rng.getrandbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"
