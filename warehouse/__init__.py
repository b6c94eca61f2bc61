"""The bedrock-jobs warehouse: DuckDB schema, loading, and the core and marts SQL models.

Plain functions over a DuckDB connection opened with `connect(path)` (a context
manager that creates or migrates the schema and always closes the connection):

    with connect(path) as con:
        register_ids(con, ids, source="inbox", requested_at=now)
        for batch in ...:
            land_batch(con, [FetchedItem(...), ...])   # raw, latest payloads, ledger, parents
        derive_core(con)                               # core from the raw stored since
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
    land_batch,
    register_ids,
)
from warehouse.state import discovery_watermark, set_discovery_watermark
from warehouse.transform import (
    CoreSummary,
    core_watermark,
    derive_core,
    rebuild_from_raw,
    refresh_marts,
)

__all__ = [
    "LATEST_VERSION",
    "STORAGE_VERSION",
    "BatchSummary",
    "CoreSummary",
    "FetchKey",
    "FetchedItem",
    "connect",
    "core_watermark",
    "count_to_fetch",
    "derive_core",
    "discovery_watermark",
    "ids_to_fetch",
    "keys_to_fetch",
    "land_batch",
    "migrate",
    "rebuild_from_raw",
    "refresh_marts",
    "register_ids",
    "schema_version",
    "set_discovery_watermark",
]
