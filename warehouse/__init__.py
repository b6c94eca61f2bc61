"""The bedrock-jobs warehouse: DuckDB schema, loading, and the core and marts SQL models.

Plain functions over a DuckDB connection opened with `connect(path)` (a context
manager that creates or migrates the schema and always closes the connection):

    with connect(path) as con:
        register_ids(con, ids, source="inbox", requested_at=now)
        for batch in ...:
            load_batch(con, [FetchedItem(...), ...])
        refresh_marts(con, now=now)
"""

from warehouse.db import LATEST_VERSION, STORAGE_VERSION, connect, migrate, schema_version
from warehouse.load import (
    BatchSummary,
    FetchedItem,
    FetchKey,
    count_to_fetch,
    ids_to_fetch,
    keys_to_fetch,
    load_batch,
    register_ids,
)
from warehouse.models import rebuild_from_raw, refresh_marts
from warehouse.state import discovery_watermark, set_discovery_watermark

__all__ = [
    "LATEST_VERSION",
    "STORAGE_VERSION",
    "BatchSummary",
    "FetchKey",
    "FetchedItem",
    "connect",
    "count_to_fetch",
    "discovery_watermark",
    "ids_to_fetch",
    "keys_to_fetch",
    "load_batch",
    "migrate",
    "rebuild_from_raw",
    "refresh_marts",
    "register_ids",
    "schema_version",
    "set_discovery_watermark",
]
