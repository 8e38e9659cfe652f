"""SQLite: a file written by an earlier release opens, keeps its rows and gains new columns."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from banditkit.store import DailyRow
from banditkit.store.sqlite import SCHEMA, SQLiteStore


def test_a_file_without_data_version_gains_it_and_keeps_its_experiments(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old_schema = SCHEMA.replace(
        "version INTEGER NOT NULL,\n    data_version INTEGER NOT NULL DEFAULT 0,\n"
        "    snapshot_state TEXT NOT NULL DEFAULT '',\n"
        "    shipped_variant TEXT NOT NULL DEFAULT '',\n"
        "    leader TEXT NOT NULL DEFAULT '',\n"
        "    search_text TEXT NOT NULL DEFAULT ''\n",
        "version INTEGER NOT NULL\n",
    )
    assert old_schema != SCHEMA
    conn = sqlite3.connect(path)
    with conn:
        conn.executescript(old_schema)
        conn.execute(
            "INSERT INTO experiments VALUES ('exp-1', 'old', '', 'running', '[]', 0, '{}', "
            "'2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z', 3)"
        )
    conn.close()
    store = SQLiteStore(path)
    exp = store.get_experiment("exp-1")
    assert (exp.name, exp.version, exp.data_version, exp.snapshot_state) == ("old", 3, 0, "")
    store.write_daily("exp-1", [DailyRow(dt.date(2026, 1, 1), "a", 5, 1)], "set")
    assert store.get_experiment("exp-1").data_version == 1
    store.close()
    # a second open finds the column there and leaves it alone
    again = SQLiteStore(path)
    assert again.get_experiment("exp-1").data_version == 1
    again.close()


def test_an_older_file_gains_search_text_and_leader_from_its_rows(tmp_path: Path) -> None:
    from banditkit.store import Leader

    path = tmp_path / "old.db"
    old_schema = SCHEMA.replace(
        "    snapshot_state TEXT NOT NULL DEFAULT '',\n"
        "    shipped_variant TEXT NOT NULL DEFAULT '',\n"
        "    leader TEXT NOT NULL DEFAULT '',\n"
        "    search_text TEXT NOT NULL DEFAULT ''\n",
        "    snapshot_state TEXT NOT NULL DEFAULT ''\n",
    )
    assert old_schema != SCHEMA
    conn = sqlite3.connect(path)
    with conn:
        conn.executescript(old_schema)
        conn.execute(
            "INSERT INTO experiments VALUES ('exp-1', 'Été Hero', '', 'running', '[]', 0, '{}', "
            "'2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z', 1, 0, '')"
        )
        totals = '{"a": {"impressions": 5}, "b": {"impressions": 5}}'
        for minute, best in ((0, '{"a": 0.9, "b": 0.1}'), (5, '{"a": 0.3, "b": 0.7}')):
            conn.execute(
                "INSERT INTO snapshots (experiment_id, computed_at, trigger, allocations, p_best, "
                "totals, data_fingerprint, status) VALUES (?, ?, 'api', '{}', ?, ?, ?, 'x')",
                ("exp-1", f"2026-01-01T00:0{minute}:00.000000Z", best, totals, f"f{minute}"),
            )
    conn.close()
    store = SQLiteStore(path)
    found = store.list_experiments(query="été")
    store.close()
    assert [(e.id, e.leader, e.shipped_variant) for e in found.items] == [
        ("exp-1", Leader("b", 0.7), None)
    ]
