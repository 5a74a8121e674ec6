"""Run clean-up work under a hard time bound.

Flush and shutdown call into exporters and HTTP clients that may block on a
dead or slow backend. Running each job on its own daemon thread and waiting
only until a deadline keeps exit bounded whatever the job does; a job still
running at the deadline is abandoned (daemon threads never delay exit).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from honeyhive_agent._log import logger

__all__ = ["deadline_in", "remaining_ms", "run_parallel"]

Job = Callable[[], object]


def deadline_in(timeout_ms: int) -> float:
    """The :func:`time.monotonic` instant ``timeout_ms`` from now."""
    return time.monotonic() + max(timeout_ms, 0) / 1000


def remaining_ms(deadline: float) -> int:
    """Milliseconds left until ``deadline`` (never negative)."""
    return max(int((deadline - time.monotonic()) * 1000), 0)


def run_parallel(jobs: Sequence[Job], deadline: float, name: str) -> bool:
    """Run ``jobs`` concurrently; True if all finished (truthy or None) by ``deadline``.

    A job's exception or False result counts as not finished; neither is
    ever raised.
    """
    if not jobs:
        return True
    results: list[bool] = []

    def target(job: Job) -> None:
        try:
            ok = job()
        except Exception as exc:  # noqa: BLE001 - clean-up is best effort
            logger.debug("%s failed: %r", name, exc)
            ok = False
        results.append(ok is None or bool(ok))

    threads = [
        threading.Thread(target=target, args=(job,), name=f"honeyhive-{name}", daemon=True)
        for job in jobs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0.0))
    finished = not any(thread.is_alive() for thread in threads)
    if not finished:
        logger.debug("%s did not finish in time; abandoning it", name)
    return finished and len(results) == len(jobs) and all(results)
