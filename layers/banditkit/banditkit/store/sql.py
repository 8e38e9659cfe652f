"""What the SQLite and PostgreSQL stores share: the reads (queries, filters, pages), the
experiment update and the snapshot write.

Each backend says how to run a read (`_fetch`) and a transaction (`_transact`), how to pass an
instant and a date to its driver, and how to decode its rows; the SQL here uses only what both
dialects accept, with `%s` placeholders (the SQLite store swaps in its `?`), and binds the text
form of every value (PostgreSQL casts text to jsonb, timestamptz and date on its own). SQL text
is built from constants only (hence the S608 waivers); values are bound.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

from banditkit.store._common import (
    cursor_ts,
    decode_cursor,
    encode_cursor,
    experiment_cursor,
    experiment_fields,
    experiment_page,
    leader_json,
    leader_of,
    like_pattern,
    page_limit,
    refused_update,
    search_query,
    search_text_of,
    snapshot_fields,
    ts,
)
from banditkit.store.base import (
    DailyRow,
    Experiment,
    ExperimentNotFound,
    ExperimentStatus,
    Page,
    Snapshot,
)

Row = tuple[Any, ...]
# The snapshots' order, newest first, on every backend: by computed_at, then by fingerprint
# (snapshots of one instant), then by insertion (only equal snapshots remain to order).
NEWEST_FIRST = "computed_at DESC, data_fingerprint DESC, id DESC"
Execute = Callable[[str, Sequence[Any]], Any]  # conn.execute with %s placeholders: a cursor
R = TypeVar("R")
# What update_experiment writes (the id, created_at, data_version and leader stay; version
# is bumped).
UPDATED = (
    "name",
    "description",
    "status",
    "variants",
    "variants_declared",
    "settings",
    "updated_at",
    "shipped_variant",
    "search_text",
    "changes",
)


def backfill_experiments(execute: Execute) -> None:
    """Fill search_text and leader of the experiments stored before those columns were
    added (a migration step, in its transaction)."""
    for experiment_id, name in execute("SELECT id, name FROM experiments", ()).fetchall():
        newest = execute(
            f"SELECT p_best, totals FROM snapshots WHERE experiment_id = %s "  # noqa: S608
            f"ORDER BY {NEWEST_FIRST} LIMIT 1",
            (experiment_id,),
        ).fetchone()
        leader = None
        if newest is not None:
            p_best, totals = (json.loads(v) if isinstance(v, str) else v for v in newest)
            leader = leader_of(p_best, totals)
        execute(
            "UPDATE experiments SET search_text = %s, leader = %s WHERE id = %s",
            (search_text_of(experiment_id, name), leader_json(leader), experiment_id),
        )


class SqlStore:
    # The experiment columns as each dialect reads them (`SELECT <this> FROM experiments`),
    # and the snapshots' after their id; a row-level lock for write_snapshot, if any.
    EXPERIMENT_COLUMNS: ClassVar[str]
    SNAPSHOT_COLUMNS: ClassVar[str]
    LOCK_EXPERIMENT: ClassVar[str] = ""

    def _fetch(self, sql: str, params: Sequence[Any]) -> list[Row]:
        raise NotImplementedError

    def _transact(self, work: Callable[[Execute], R], *, repeatable: bool) -> R:
        """`work` in one transaction; `repeatable`: safe to run again after a lost connection."""
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
        rows = self._fetch(
            f"SELECT {self.EXPERIMENT_COLUMNS} FROM experiments WHERE id = %s",  # noqa: S608
            (experiment_id,),
        )
        if not rows:
            raise ExperimentNotFound(experiment_id)
        return self._experiment(rows[0])

    def list_experiments(
        self,
        status: ExperimentStatus | None = None,
        limit: int = 50,
        cursor: str | None = None,
        *,
        query: str | None = None,
        newest_first: bool = False,
    ) -> Page[Experiment]:
        limit = page_limit(limit)
        where: list[str] = []
        params: list[Any] = []
        if status is not None:
            where.append("status = %s")
            params.append(status)
        if query:
            where.append("search_text LIKE %s ESCAPE '\\'")
            params.append(like_pattern(search_query(query)))
        if cursor is not None:
            created, last_id = experiment_cursor(cursor)
            where.append(f"(created_at, id) {'<' if newest_first else '>'} (%s, %s)")
            params += [self._instant(created), last_id]
        sql = f"SELECT {self.EXPERIMENT_COLUMNS} FROM experiments"  # noqa: S608
        if where:
            sql += " WHERE " + " AND ".join(where)
        order = "created_at DESC, id DESC" if newest_first else "created_at, id"
        rows = self._fetch(sql + f" ORDER BY {order} LIMIT %s", (*params, limit + 1))
        return experiment_page([self._experiment(r) for r in rows[:limit]], len(rows) > limit)

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

    def latest_day(self, experiment_id: str) -> dt.date | None:
        rows = self._fetch("SELECT max(day) FROM daily WHERE experiment_id = %s", (experiment_id,))
        value = rows[0][0] if rows else None
        if value is None or isinstance(value, dt.date):
            return value
        return dt.date.fromisoformat(value)  # SQLite keeps the ISO text

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
        limit = page_limit(limit)
        sql = f"SELECT id, {self.SNAPSHOT_COLUMNS} FROM snapshots WHERE experiment_id = %s"  # noqa: S608
        params: list[Any] = [experiment_id]
        if start is not None:
            sql += " AND computed_at >= %s"
            params.append(self._instant(start))
        if end is not None:
            sql += " AND computed_at <= %s"
            params.append(self._instant(end))
        if cursor is not None:
            at, fingerprint, last_id = decode_cursor(cursor, (str, str, int))
            sql += " AND (computed_at, data_fingerprint, id) < (%s, %s, %s)"
            params += [self._instant(cursor_ts(at)), fingerprint, last_id]
        sql += f" ORDER BY {NEWEST_FIRST} LIMIT %s"
        rows = self._fetch(sql, (*params, limit + 1))
        items = [self._snapshot(r[1:]) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = items[-1]
            next_cursor = encode_cursor(
                ts(last.computed_at), last.data_fingerprint, int(rows[limit - 1][0])
            )
        return Page(items, next_cursor)

    def update_experiment(self, experiment: Experiment, expected_version: int) -> Experiment:
        f = experiment_fields(experiment)

        def work(execute: Execute) -> Row:
            row = execute(
                "UPDATE experiments SET "  # noqa: S608
                + ", ".join(f"{name} = %s" for name in UPDATED)
                + f", version = %s WHERE id = %s AND version = %s "
                f"RETURNING {self.EXPERIMENT_COLUMNS}",
                (*(f[name] for name in UPDATED), expected_version + 1, f["id"], expected_version),
            ).fetchone()
            if row is None:
                found = execute("SELECT version FROM experiments WHERE id = %s", (f["id"],))
                version = found.fetchone()
                raise refused_update(f["id"], expected_version, version[0] if version else None)
            return tuple(row)

        return self._experiment(self._transact(work, repeatable=False))

    def mark_snapshot_state(self, experiment_id: str, state: str) -> None:
        def work(execute: Execute) -> None:
            found = execute(
                "UPDATE experiments SET snapshot_state = %s WHERE id = %s RETURNING 1",
                (state, experiment_id),
            ).fetchall()  # all: SQLite commits only once the statement is done
            if not found:
                raise ExperimentNotFound(experiment_id)

        self._transact(work, repeatable=False)

    def write_snapshot(self, snapshot: Snapshot) -> bool:
        f = snapshot_fields(snapshot)

        def work(execute: Execute) -> bool:
            # with LOCK_EXPERIMENT, the experiment row's lock serialises the snapshot writers
            # of one experiment (SQLite's write lock already serialises every writer)
            found = execute(
                "SELECT 1 FROM experiments WHERE id = %s" + self.LOCK_EXPERIMENT,  # noqa: S608
                (f["experiment_id"],),
            ).fetchone()
            if found is None:
                raise ExperimentNotFound(snapshot.experiment_id)
            latest = execute(
                "SELECT data_fingerprint FROM snapshots WHERE experiment_id = %s "  # noqa: S608
                f"ORDER BY {NEWEST_FIRST} LIMIT 1",
                (f["experiment_id"],),
            ).fetchone()
            if latest is not None and latest[0] == snapshot.data_fingerprint:
                return False
            inserted = execute(
                f"INSERT INTO snapshots ({', '.join(f)}) "  # noqa: S608
                f"VALUES ({', '.join(['%s'] * len(f))}) RETURNING id",
                tuple(f.values()),
            ).fetchone()[0]
            newest = execute(
                f"SELECT id FROM snapshots WHERE experiment_id = %s ORDER BY {NEWEST_FIRST} "  # noqa: S608
                "LIMIT 1",
                (f["experiment_id"],),
            ).fetchone()[0]
            if newest == inserted:  # the newest now: it names the leader
                execute(
                    "UPDATE experiments SET leader = %s WHERE id = %s",
                    (leader_json(leader_of(snapshot.p_best, snapshot.totals)), f["experiment_id"]),
                )
            return True

        return self._transact(work, repeatable=True)
