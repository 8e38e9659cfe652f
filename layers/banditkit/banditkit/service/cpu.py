"""At most CPU_SLOTS CPU-heavy computations at once in a process: the engine on an
experiment's data (allocation, report), a simulation, the parse of a CSV import.

Heavy requests queue here instead of sharing the CPU (and Python's GIL) all at once, so the
event loop, /health and requests answered from the caches keep their turn while eight heavy
requests run. One slot: on a 2-core machine a second one took the event loop's core
(bench/heavy.py: /health p99 under eight heavy clients 500 ms with two slots, 64 ms with
one, in runs on one busy machine). A Lambda instance serves one request at a time anyway.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

CPU_SLOTS = 1
_slots = threading.BoundedSemaphore(CPU_SLOTS)


@contextmanager
def cpu_slot() -> Iterator[None]:
    """Hold one of the CPU_SLOTS while the block runs."""
    with _slots:
        yield
