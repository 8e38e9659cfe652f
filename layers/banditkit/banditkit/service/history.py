"""History (the stored snapshots) and metrics (the stored daily counts)."""

from __future__ import annotations

import datetime as dt

from banditkit import models
from banditkit.service.past import history_entry
from banditkit.store import Store


def history(
    store: Store,
    experiment_id: str,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> models.HistoryOut:
    store.get_experiment(experiment_id)
    page = store.list_snapshots(experiment_id, start=start, end=end, limit=limit, cursor=cursor)
    return models.HistoryOut(
        experiment_id=experiment_id,
        items=[models.SnapshotOut.model_validate(s) for s in page.items],
        next_cursor=page.next_cursor,
        history=[history_entry(s) for s in page.items],
    )


def metrics(
    store: Store, experiment_id: str, start: dt.date | None = None, end: dt.date | None = None
) -> models.MetricsOut:
    store.get_experiment(experiment_id)
    by_day: dict[dt.date, list[models.DayVariant]] = {}
    for r in store.read_daily(experiment_id, start, end):
        by_day.setdefault(r.date, []).append(models.DayVariant.model_validate(r))
    return models.MetricsOut(
        experiment_id=experiment_id,
        days=[models.MetricsDay(date=d, variants=v) for d, v in sorted(by_day.items())],
    )
