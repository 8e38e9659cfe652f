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
        "    snapshot_state TEXT NOT NULL DEFAULT ''\n",
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
