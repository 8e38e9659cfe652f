"""The read side the SQLite and PostgreSQL stores share: the queries, filters and pages.

Each backend says how to run a read (`_fetch`), how to pass an instant and a date to its
driver, and how to decode its rows; the SQL here uses only what both dialects accept, with
`%s` placeholders (the SQLite store swaps in its `?`). SQL text is built from constants
only (hence the S608 waivers); values are bound.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, ClassVar

from banditkit.store._common import cursor_ts, decode_cursor, encode_cursor, ts
from banditkit.store.base import (
    DailyRow,
    Experiment,
    ExperimentNotFound,
    ExperimentStatus,
    Page,
    Snapshot,
)

Row = tuple[Any, ...]


class SqlReads:
    # "SELECT <the experiment columns> FROM experiments", and for snapshots
    # "SELECT id, experiment_id, computed_at, ... FROM snapshots", as each dialect reads them
    EXPERIMENT_SELECT: ClassVar[str]
    SNAPSHOT_SELECT: ClassVar[str]

    def _fetch(self, sql: str, params: Sequence[Any]) -> list[Row]:
        raise NotImplementedError

    def _instant(self, moment: dt.datetime) -> Any:
        raise NotImplementedError

    def _day(self, day: dt.date) -> Any:
        raise NotImplementedError

    def _experiment(self, row: Row) -> Experiment:
        raise NotImplementedError

    def _snapshot(self, row: Row) -> Snapshot:
        """A snapshot from its row without the leading id."""
        raise NotImplementedError

    def _daily(self, row: Row) -> DailyRow:
        raise NotImplementedError

    def get_experiment(self, experiment_id: str) -> Experiment:
        rows = self._fetch(self.EXPERIMENT_SELECT + " WHERE id = %s", (experiment_id,))
        if not rows:
            raise ExperimentNotFound(experiment_id)
        return self._experiment(rows[0])

    def list_experiments(
        self, status: ExperimentStatus | None = None, limit: int = 50, cursor: str | None = None
    ) -> Page[Experiment]:
        limit = max(1, min(limit, 1000))
        where: list[str] = []
        params: list[Any] = []
        if status is not None:
            where.append("status = %s")
            params.append(status)
        if cursor is not None:
            created, last_id = decode_cursor(cursor, (str, str))
            where.append("(created_at, id) > (%s, %s)")
            params += [self._instant(cursor_ts(created)), last_id]
        sql = self.EXPERIMENT_SELECT
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._fetch(sql + " ORDER BY created_at, id LIMIT %s", (*params, limit + 1))
        items = [self._experiment(r) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            next_cursor = encode_cursor(ts(items[-1].created_at), items[-1].id)
        return Page(items, next_cursor)

    def read_daily(
        self, experiment_id: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> list[DailyRow]:
        sql = (
            "SELECT day, variant_name, impressions, clicks, conversions FROM daily "
            "WHERE experiment_id = %s"
        )
        params: list[Any] = [experiment_id]
        if start is not None:
            sql += " AND day >= %s"
            params.append(self._day(start))
        if end is not None:
            sql += " AND day <= %s"
            params.append(self._day(end))
        rows = self._fetch(sql + " ORDER BY day, variant_name", params)
        return [self._daily(r) for r in rows]

    def latest_snapshot(self, experiment_id: str) -> Snapshot | None:
        page = self.list_snapshots(experiment_id, limit=1)
        return page.items[0] if page.items else None

    def list_snapshots(
        self,
        experiment_id: str,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[Snapshot]:
        limit = max(1, min(limit, 1000))
        sql = self.SNAPSHOT_SELECT + " WHERE experiment_id = %s"
        params: list[Any] = [experiment_id]
        if start is not None:
            sql += " AND computed_at >= %s"
            params.append(self._instant(start))
        if end is not None:
            sql += " AND computed_at <= %s"
            params.append(self._instant(end))
        if cursor is not None:
            at, last_id = decode_cursor(cursor, (str, int))
            sql += " AND (computed_at, id) < (%s, %s)"
            params += [self._instant(cursor_ts(at)), last_id]
        sql += " ORDER BY computed_at DESC, id DESC LIMIT %s"
        rows = self._fetch(sql, (*params, limit + 1))
        items = [self._snapshot(r[1:]) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            next_cursor = encode_cursor(ts(items[-1].computed_at), int(rows[limit - 1][0]))
        return Page(items, next_cursor)
