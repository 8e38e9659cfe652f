import datetime as dt

from banditkit.engine import DailyCounts, Settings, allocate, fingerprint

DAY = dt.date(2026, 3, 1)


def _rows(counts: dict[str, tuple[int, int]], days: int = 3) -> list[DailyCounts]:
    return [
        DailyCounts(DAY + dt.timedelta(days=i), name, n, c)
        for i in range(days)
        for name, (n, c) in counts.items()
    ]


def test_no_data_is_an_even_split_warming_up() -> None:
    alloc = allocate(["a", "b", "c", "d"], [], Settings())
    assert alloc.status == "warming_up"
    assert alloc.shares == {"a": 0.25, "b": 0.25, "c": 0.25, "d": 0.25}


def test_clear_winner_gets_most_traffic_and_control_keeps_its_floor() -> None:
    rows = _rows({"control": (5000, 350), "b": (5000, 475)})
    alloc = allocate(["control", "b"], rows, Settings(), control="control")
    assert alloc.status == "winner_found"
    assert alloc.winner == "b"
    assert alloc.shares == {"control": 0.1, "b": 0.9}


def test_fingerprint_ignores_row_order_and_sees_settings() -> None:
    rows = _rows({"a": (100, 5), "b": (100, 7)})
    one = fingerprint(["a", "b"], rows, Settings())
    assert one == fingerprint(["a", "b"], list(reversed(rows)), Settings())
    assert one != fingerprint(["a", "b"], rows, Settings(min_explore_rate=0.1))
    assert len(one) == 64
