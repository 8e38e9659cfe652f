"""Business metrics: their names, and the hook that counts them (Lambda handlers plug Powertools
EMF in; locally it is a no-op). Free of FastAPI, for the recompute job; the routes get theirs
through `banditkit.http.telemetry`."""

from __future__ import annotations

from typing import Protocol

EVENTS_INGESTED = "EventsIngested"
ALLOCATIONS_COMPUTED = "AllocationsComputed"
SNAPSHOTS_WRITTEN = "SnapshotsWritten"
# The scheduled recompute: the planner's page walk and the workers' outcomes.
RECOMPUTE_SEEN = "RecomputeExperimentsSeen"
RECOMPUTE_QUEUED = "RecomputeExperimentsQueued"
RECOMPUTE_SKIPPED = "RecomputeExperimentsSkipped"
RECOMPUTE_INCOMPLETE = "RecomputePlanIncomplete"
RECOMPUTED = "RecomputeExperimentsRecomputed"
RECOMPUTE_UNCHANGED = "RecomputeExperimentsUnchanged"
RECOMPUTE_FAILURES = "RecomputeFailures"  # experiments a run could not recompute
RECOMPUTE_SECONDS = "RecomputeSeconds"


class Telemetry(Protocol):
    def count(self, name: str, value: int = 1) -> None: ...


class NoTelemetry:
    def count(self, name: str, value: int = 1) -> None:
        return None
