"""At most CPU_SLOTS CPU-heavy computations at once in a process: the engine on an
experiment's data (allocation, report), a simulation, the parse of a CSV import.

Heavy requests queue here instead of sharing the CPU (and Python's GIL) all at once, so the
event loop, /health and requests answered from the caches keep their turn while eight heavy
requests run.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

CPU_SLOTS = 2
_slots = threading.BoundedSemaphore(CPU_SLOTS)


@contextmanager
def cpu_slot() -> Iterator[None]:
    """Hold one of the CPU_SLOTS while the block runs."""
    with _slots:
        yield
