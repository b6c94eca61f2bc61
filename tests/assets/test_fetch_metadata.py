"""The fetch asset's metadata: counts summed over rounds, every outcome shown even when zero."""

from __future__ import annotations

from pipelines.services.fetch import FetchSummary, combined_metadata


def _summary(loaded: int, failed: int, parents: int) -> FetchSummary:
    return FetchSummary(requested=loaded + failed, answered=loaded + failed,
                        outcomes={"loaded": loaded, "failed": failed},
                        batches=1, parents_registered=parents, payloads_stored=loaded,
                        quarantined=0, elapsed_seconds=1.0, stats=None)


def test_rounds_are_summed_and_zero_outcomes_shown():
    metadata = combined_metadata([_summary(90, 2, 5), _summary(5, 0, 0)])
    assert metadata["requested"] == 97 and metadata["loaded"] == 95
    assert metadata["answered"] == 97
    assert metadata["failed"] == 2 and metadata["not_found"] == 0 and metadata["forbidden"] == 0
    assert metadata["parents_registered"] == 5 and metadata["parent_rounds"] == 2


def test_nothing_to_fetch():
    assert combined_metadata([]) == {"requested": 0}
