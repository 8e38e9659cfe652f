"""Databases in the original API's schema, as its users have them: integer ids, duplicate
daily rows (no uniqueness constraint), counts it never validated, allocations as JSON."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

SQLITE_DDL = """
CREATE TABLE experiments (id INTEGER PRIMARY KEY, name TEXT, description TEXT, status TEXT,
  created_at TEXT, updated_at TEXT);
CREATE TABLE daily_metrics (id INTEGER PRIMARY KEY, experiment_id INTEGER, variant_name TEXT,
  date TEXT, impressions INTEGER, clicks INTEGER, conversions INTEGER, ctr REAL,
  created_at TEXT, updated_at TEXT);
CREATE TABLE allocations (id INTEGER PRIMARY KEY, experiment_id INTEGER, target_date TEXT,
  algorithm TEXT, allocations TEXT, window_days INTEGER, total_impressions INTEGER,
  total_clicks INTEGER, created_at TEXT);
"""
POSTGRES_DDL = """
CREATE TABLE experiments (id integer PRIMARY KEY, name text, description text, status text,
  created_at timestamp, updated_at timestamp);
CREATE TABLE daily_metrics (id integer PRIMARY KEY, experiment_id integer, variant_name text,
  date date, impressions integer, clicks integer, conversions integer, ctr double precision,
  created_at timestamp, updated_at timestamp);
CREATE TABLE allocations (id integer PRIMARY KEY, experiment_id integer, target_date date,
  algorithm text, allocations json, window_days integer, total_impressions integer,
  total_clicks integer, created_at timestamp);
"""

EXPERIMENTS = [
    (1, "Homepage CTA", "the button", "active", "2025-01-01 08:00:00", "2025-01-02 08:00:00"),
    (2, "Pricing", None, "paused", "2025-01-01 09:00:00", None),
    (3, "  padded name", "", "active", "2025-01-01 10:00:00", None),  # invalid name
    (4, "Draft", "", "draft", "2025-01-01 11:00:00", None),  # invalid status
]
# id, experiment, variant, date, impressions, clicks, conversions, updated_at
DAILY = [
    (1, 1, "control", "2025-01-01", 1000, 30, 2, "2025-01-01 23:00:00"),
    (2, 1, "variant_b", "2025-01-01", 1000, 40, 3, "2025-01-01 23:00:00"),
    (3, 1, "control", "2025-01-02", 1000, 31, None, "2025-01-02 10:00:00"),
    (4, 1, "control", "2025-01-02", 1000, 35, 1, "2025-01-02 12:00:00"),  # last updated
    (5, 1, "control", "2025-01-02", 900, 20, 0, "2025-01-02 11:00:00"),
    (6, 1, "variant_b", "2025-01-02", 1000, 45, None, "2025-01-02 10:00:00"),
    (7, 1, "control", "2025-01-03", 100, 150, 0, "2025-01-03 10:00:00"),  # clicks > impr.
    (8, 1, "variant_b", "2025-01-03", -5, 0, 0, "2025-01-03 10:00:00"),  # negative
    (9, 2, "control", "2025-01-01", 500, 10, 0, "2025-01-01 10:00:00"),
    (10, 2, "treatment", "2025-01-01", 500, 12, 0, "2025-01-01 10:00:00"),
    (11, 2, "control", "2025-01-02", 500, 10, 0, "2025-01-02 09:00:00"),
    (12, 2, "control", "2025-01-02", 500, 600, 0, "2025-01-02 10:00:00"),  # last, invalid
    (13, 3, "control", "2025-01-01", 10, 1, 0, "2025-01-01 10:00:00"),  # experiment skipped
    (14, 99, "control", "2025-01-01", 10, 1, 0, "2025-01-01 10:00:00"),  # no experiment 99
]
# id, experiment, target_date, allocations, total_impressions, total_clicks, created_at
ALLOCATIONS = [
    (1, 1, "2025-01-02", {"control": 0.5, "variant_b": 0.5}, 2000, 70, "2025-01-02 06:00:00"),
    (2, 1, "2025-01-03", {"control": 0.3, "variant_b": 0.7}, 4000, 150, "2025-01-03 06:00:00"),
    (3, 1, "2025-01-04", "oops", 0, 0, "2025-01-04 06:00:00"),  # not an object
    (4, 2, "2025-01-02", {"control": 0.6, "treatment": 0.6}, 1000, 22, "2025-01-02 06:00:00"),
    (5, 3, "2025-01-02", {"control": 1.0}, 10, 1, "2025-01-02 06:00:00"),  # skipped
]


def rows() -> dict[str, list[tuple[Any, ...]]]:
    daily = [
        (i, e, v, d, imp, c, conv, (c / imp if imp > 0 else None), u, u)
        for i, e, v, d, imp, c, conv, u in DAILY
    ]
    allocations = [
        (i, e, t, "thompson_sampling", json.dumps(a), 7, ti, tc, at)
        for i, e, t, a, ti, tc, at in ALLOCATIONS
    ]
    return {"experiments": EXPERIMENTS, "daily_metrics": daily, "allocations": allocations}


def fill(execute: Callable[[str, Sequence[Any]], Any], marker: str) -> None:
    for table, values in rows().items():
        for row in values:
            places = ", ".join([marker] * len(row))
            execute(f"INSERT INTO {table} VALUES ({places})", row)


def sqlite_database(path: Path, extra_daily: int = 0) -> Path:
    """The original's SQLite file; `extra_daily` more valid rows on experiment 1 (days
    from 2000-01-01)."""
    conn = sqlite3.connect(path)
    conn.executescript(SQLITE_DDL)
    fill(conn.execute, "?")
    start = dt.date(2000, 1, 1)
    conn.executemany(
        "INSERT INTO daily_metrics (id, experiment_id, variant_name, date, impressions, clicks, "
        "conversions, created_at, updated_at) VALUES (?, 1, ?, ?, 10, 1, 0, "
        "'2025-01-01', '2025-01-01')",
        [
            (100 + i, ("control", "variant_b")[i % 2], (start + dt.timedelta(i // 2)).isoformat())
            for i in range(extra_daily)
        ],
    )
    conn.commit()
    conn.close()
    return path


def postgres_database(url: str, schema: str) -> str:
    """The original's tables in `schema` of the test server; the URL that reaches them."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"SET search_path TO {schema}")
        for statement in POSTGRES_DDL.split(";"):
            if statement.strip():
                conn.execute(statement)
        fill(conn.execute, "%s")
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"
