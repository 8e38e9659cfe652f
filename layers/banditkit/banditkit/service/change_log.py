"""The experiment's change log: what an update changed (settings, variants, status), kept on
the experiment so the dashboard can mark it on its charts. The store writes the log in the
same transaction as the update itself."""

from __future__ import annotations

import dataclasses
from typing import Any

from banditkit import models
from banditkit.service.loading import engine_settings
from banditkit.store import MAX_CHANGES, Change, Experiment, Store

MAX_DETAIL = 200


def change_out(change: Change) -> models.ChangeOut:
    return models.ChangeOut(
        at=change.at, kind=change.kind, detail=change.detail, latest_day=change.latest_day
    )


def with_changes_logged(store: Store, before: Experiment, after: Experiment) -> Experiment:
    """`after` with what changed since `before` appended to its change log (the latest
    MAX_CHANGES kept); unchanged when nothing worth logging changed (a rename)."""
    found = _changes(before, after)
    if not found:
        return after
    latest = store.latest_day(before.id)  # one indexed lookup, not the experiment's rows
    logged = [Change(after.updated_at, kind, _short(detail), latest) for kind, detail in found]
    return dataclasses.replace(after, changes=(*before.changes, *logged)[-MAX_CHANGES:])


def _changes(before: Experiment, after: Experiment) -> list[tuple[Any, str]]:
    found: list[tuple[Any, str]] = []
    old = dataclasses.asdict(engine_settings(before.settings))
    new = dataclasses.asdict(engine_settings(after.settings))
    moved = [f"{k} {_value(old[k])} → {_value(new[k])}" for k in new if old[k] != new[k]]
    if moved:
        found.append(("settings", "; ".join(moved)))
    known = {v.name for v in before.variants}
    added = [v.name for v in after.variants if v.name not in known]
    if added:
        found.append(("variants_added", "added " + ", ".join(added)))
    if after.status != before.status:
        kind = {"paused": "paused", "completed": "completed", "running": "resumed"}[after.status]
        shipped = f", shipped {after.shipped_variant}" if after.shipped_variant else ""
        found.append((kind, f"{before.status} → {after.status}{shipped}"))
    elif after.shipped_variant != before.shipped_variant:  # a completed test ships another
        was, now = _value(before.shipped_variant), _value(after.shipped_variant)
        found.append(("completed", f"shipped {was} → {now}"))
    return found


def _value(value: Any) -> str:
    return "none" if value is None else str(value)


def _short(text: str) -> str:
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"
