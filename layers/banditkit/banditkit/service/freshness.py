"""What the reads of one experiment depend on, found with two small store reads and no
computing: the routes turn it into an ETag and answer `If-None-Match` with 304."""

from __future__ import annotations

from banditkit.store import Store


def experiment_state(store: Store, experiment_id: str) -> tuple[object, ...]:
    """The experiment's identity and versions (settings, status and variants bump `version`,
    every data write bumps `data_version`) and its latest snapshot's time (history, and the
    previous shares the allocation starts from). ExperimentNotFound when there is none."""
    exp = store.get_experiment(experiment_id)
    latest = store.latest_snapshot(experiment_id)
    return (
        exp.id,
        exp.created_at.isoformat(),
        exp.version,
        exp.data_version,
        latest.computed_at.isoformat() if latest is not None else None,
    )
