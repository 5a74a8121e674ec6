"""Carry the caller's context into ``concurrent.futures`` worker threads.

asyncio tasks copy :mod:`contextvars` on creation, so spans and sessions
follow ``asyncio.create_task`` and ``asyncio.gather`` by themselves. Threads
do not: a callable submitted to a :class:`~concurrent.futures.ThreadPoolExecutor`
runs in whatever context the worker thread happens to have, so a span opened
inside it would lose its parent (or, worse, pick up nothing and start a new
trace). :func:`install_thread_context_propagation` patches
``ThreadPoolExecutor.submit`` so every submitted callable runs inside a copy of
the context taken at submit time, the same rule ``asyncio.to_thread`` follows.
``Executor.map`` and ``loop.run_in_executor`` go through ``submit`` and are
covered too.

The patch is idempotent and reversible (:func:`uninstall_thread_context_propagation`).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

__all__ = [
    "install_thread_context_propagation",
    "is_thread_context_propagation_installed",
    "uninstall_thread_context_propagation",
]

_lock = threading.Lock()
_original_submit: Callable[..., Future[Any]] | None = None
_installed = False


def _make_submit(original: Callable[..., Future[Any]]) -> Callable[..., Future[Any]]:
    def submit(
        self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Future[Any]:
        # A fresh copy per call: one Context object cannot be entered by two
        # threads at once, and the worker must not see later changes.
        return original(self, contextvars.copy_context().run, fn, *args, **kwargs)

    submit.__name__ = getattr(original, "__name__", "submit")
    submit.__qualname__ = getattr(original, "__qualname__", "ThreadPoolExecutor.submit")
    submit.__doc__ = getattr(original, "__doc__", None)
    submit.__wrapped__ = original  # type: ignore[attr-defined]
    submit._honeyhive_context_propagation = True  # type: ignore[attr-defined]
    return submit


def install_thread_context_propagation() -> None:
    """Run every ``ThreadPoolExecutor.submit`` callable in the submitter's context.

    Safe to call any number of times and from any thread; only the first call
    patches. Never raises.
    """
    global _original_submit, _installed
    if _installed:
        return
    with _lock:
        if _installed:
            return
        try:
            original = ThreadPoolExecutor.submit
            if not getattr(original, "_honeyhive_context_propagation", False):
                ThreadPoolExecutor.submit = _make_submit(original)  # type: ignore[method-assign]
                _original_submit = original
            _installed = True
        except Exception:  # noqa: BLE001 - the agent must never break the host app
            from honeyhive_agent._log import warn_once

            warn_once(
                "decorators.thread-context",
                "could not patch ThreadPoolExecutor.submit; spans in worker threads "
                "will not nest under their caller",
            )


def uninstall_thread_context_propagation() -> None:
    """Undo :func:`install_thread_context_propagation`.

    If someone patched ``submit`` again on top of ours, their patch is left in
    place (restoring the original under it would silently drop theirs).
    """
    global _original_submit, _installed
    with _lock:
        current = ThreadPoolExecutor.__dict__.get("submit")
        if (
            _original_submit is not None
            and getattr(current, "_honeyhive_context_propagation", False)
        ):
            ThreadPoolExecutor.submit = _original_submit  # type: ignore[method-assign]
        _original_submit = None
        _installed = False


def is_thread_context_propagation_installed() -> bool:
    """Whether the ``submit`` patch is active."""
    return _installed
