"""Experiments: create, list, read, update (optimistic versioning), delete, and the
variants an experiment learns from its events."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Literal

from banditkit import models
from banditkit.service.change_log import change_out, with_changes_logged
from banditkit.service.errors import FieldError, InvalidRequest
from banditkit.service.loading import (
    UPDATE_RETRIES,
    Clock,
    check_feasible,
    control_of,
    engine_settings,
    seen,
    settings_out,
    utcnow,
)
from banditkit.store import Conflict, Experiment, Store, Variant

log = logging.getLogger("banditkit.service")
ListOrder = Literal["oldest", "newest"]


def experiment_out(exp: Experiment) -> models.ExperimentOut:
    return models.ExperimentOut(
        id=exp.id,
        name=exp.name,
        description=exp.description,
        status=exp.status,
        variants=[models.VariantOut(name=v.name, is_control=v.is_control) for v in exp.variants],
        variants_declared=exp.variants_declared,
        control=control_of(exp.variants, [v.name for v in exp.variants]),
        settings=settings_out(engine_settings(exp.settings)),
        created_at=exp.created_at,
        updated_at=exp.updated_at,
        shipped_variant=exp.shipped_variant,
        leader=(
            None
            if exp.leader is None
            else models.LeaderOut(variant=exp.leader.variant, p_best=exp.leader.p_best)
        ),
        changes=[change_out(c) for c in exp.changes],
    )


def create_experiment(
    store: Store, body: models.ExperimentCreate, *, now: Clock = utcnow
) -> models.ExperimentOut:
    declared = [Variant(v.name, v.is_control) for v in _variant_ins(body.variants)]
    overrides = body.settings.applied_to({})
    check_feasible(engine_settings(overrides), declared)
    at = now()
    exp = Experiment(
        id=body.id or uuid.uuid4().hex[:16],
        name=body.name,
        description=body.description,
        status="running",
        variants=tuple(declared),
        variants_declared=bool(declared),
        settings=overrides,
        created_at=at,
        updated_at=at,
    )
    return experiment_out(store.create_experiment(exp))


def _variant_ins(value: Sequence[models.VariantIn] | None) -> list[models.VariantIn]:
    return list(value or ())


def list_experiments(
    store: Store,
    status: models.ExperimentStatus | None = None,
    limit: int = 50,
    cursor: str | None = None,
    q: str | None = None,
    order: ListOrder = "oldest",
) -> models.ExperimentPage:
    """A page of experiments: with `q`, those whose id or name contains it (ignoring
    case); `order` oldest (by creation) or newest first."""
    page = store.list_experiments(
        status=status,
        limit=limit,
        cursor=cursor,
        query=q.strip() if q else None,
        newest_first=order == "newest",
    )
    return models.ExperimentPage(
        items=[experiment_out(e) for e in page.items], next_cursor=page.next_cursor
    )


def get_experiment(store: Store, experiment_id: str) -> models.ExperimentOut:
    return experiment_out(store.get_experiment(experiment_id))


def update_experiment(
    store: Store, experiment_id: str, patch: models.ExperimentPatch, *, now: Clock = utcnow
) -> models.ExperimentOut:
    """Apply a partial update with optimistic versioning (retried on a concurrent change).
    Changes of settings, variants and status are logged on the experiment (change_log.py)."""
    for attempt in range(UPDATE_RETRIES):
        exp = store.get_experiment(experiment_id)
        updated = _patched(exp, patch, now())
        updated = with_changes_logged(store, exp, updated)
        try:
            return experiment_out(store.update_experiment(updated, expected_version=exp.version))
        except Conflict:
            if attempt == UPDATE_RETRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _patched(exp: Experiment, patch: models.ExperimentPatch, at: dt.datetime) -> Experiment:
    changes: dict[str, Any] = {"updated_at": at}
    fields = patch.model_fields_set
    if "name" in fields and patch.name is not None:
        changes["name"] = patch.name
    if "description" in fields and patch.description is not None:
        changes["description"] = patch.description
    if "status" in fields and patch.status is not None:
        changes["status"] = patch.status
    variants = list(exp.variants)
    if patch.variants:
        known = {v.name for v in variants}
        has_control = any(v.is_control for v in variants)
        problems = []
        for i, v in enumerate(_variant_ins(patch.variants)):
            if v.name in known:
                problems.append(FieldError(f"variants.{i}.name", f"variant {v.name!r} exists"))
            if v.is_control and has_control:
                problems.append(
                    FieldError(f"variants.{i}.is_control", "the experiment has a control")
                )
            variants.append(Variant(v.name, v.is_control))
        if len(variants) > models.MAX_VARIANTS:
            problems.append(FieldError("variants", f"at most {models.MAX_VARIANTS} variants"))
        if problems:
            raise InvalidRequest(problems)
        changes["variants"] = tuple(variants)
        changes["variants_declared"] = True
    overrides = dict(exp.settings)
    if patch.settings is not None:
        overrides = patch.settings.applied_to(exp.settings)
        changes["settings"] = overrides
    declared = variants if (exp.variants_declared or patch.variants) else None
    check_feasible(engine_settings(overrides), declared)
    changes["shipped_variant"] = _shipped(exp, patch, changes.get("status", exp.status), variants)
    return dataclasses.replace(exp, **changes)


def _shipped(
    exp: Experiment, patch: models.ExperimentPatch, status: str, variants: list[Variant]
) -> str | None:
    """The shipped variant after the patch: set only on a completed experiment, and one of
    its variants; it goes when the experiment leaves completed."""
    if "shipped_variant" not in patch.model_fields_set:
        return exp.shipped_variant if status == "completed" else None
    name = patch.shipped_variant
    if name is None:
        return None
    if status != "completed":
        raise InvalidRequest(
            [
                FieldError(
                    "shipped_variant",
                    "only a completed experiment ships a variant; send status completed with it",
                )
            ]
        )
    known = [v.name for v in variants]
    if name not in known:
        problem = f"unknown variant {name!r}; variants: {', '.join(known)}"
        raise InvalidRequest([FieldError("shipped_variant", problem)])
    return name


def delete_experiment(store: Store, experiment_id: str) -> None:
    store.get_experiment(experiment_id)  # ExperimentNotFound -> 404
    store.delete_experiment(experiment_id)
    seen(store).clear()  # an experiment made again under this id starts afresh


def undeclared(exp: Experiment, name: str, field: str) -> FieldError | None:
    """The error for a variant name an experiment with declared variants does not know."""
    known = [v.name for v in exp.variants]
    if not exp.variants_declared or name in known:
        return None
    return FieldError(
        field,
        f"must be one of the declared variants: {', '.join(sorted(known))} (add {name!r} first)",
    )


def check_variant_names(exp: Experiment, names: Sequence[str], field: Callable[[int], str]) -> None:
    """Raise InvalidRequest for names a declared experiment does not know, or for new names
    past the cap (the store checks the cap again in its write, against concurrent writers;
    names an experiment already has always pass, even past the cap)."""
    known = {v.name for v in exp.variants}
    if exp.variants_declared:
        problems = [p for i, n in enumerate(names) if (p := undeclared(exp, n, field(i)))]
        if problems:
            raise InvalidRequest(problems)
        return
    new = [n for n in dict.fromkeys(names) if n not in known]
    if new and len(known) + len(new) > models.MAX_VARIANTS:
        raise InvalidRequest(
            [FieldError("variants", f"an experiment has at most {models.MAX_VARIANTS} variants")]
        )


def reset(store: Store) -> None:
    store.reset()
    seen(store).clear()
