"""Child processes that may die without an exit flush.

``multiprocessing`` workers leave through ``os._exit`` (no ``atexit``), and
``with Pool() as p: p.map(...)`` terminates them (SIGTERM) right after
``map`` returns. In such a worker:

* the span processors switch to eager mode (``export_on_local_root_end``):
  the end of a local root span sends what is queued right away;
* ``os._exit`` and a SIGTERM (when the app left its default action) flush the
  tracers first, within the exit bound, then exit exactly as they would have
  (same code, same signal), so what eager mode could not finish (a slow
  destination, spans under a still-open local parent) is still delivered.

Any other ``os.fork()`` child gets the ``os._exit`` flush only (its signal
handling stays the app's): forked children conventionally end that way.

The processors reset their own queues, locks and threads after ``fork``
(:mod:`honeyhive_agent.exporters.batch`); this module only decides *when* a
process is such a worker, without importing the exporters before they are
needed. It also flushes before ``os.exec*`` replaces a program.
"""

from __future__ import annotations

import os
import sys
from types import FrameType, ModuleType
from typing import Any

__all__ = ["install", "is_multiprocessing_child", "make_eager", "make_worker"]

_BATCH_MODULE = "honeyhive_agent.exporters.batch"
_installed = False


def install() -> None:
    """Arm the hooks (idempotent); a spawned multiprocessing child goes eager now."""
    global _installed
    if _installed:
        return
    _installed = True
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
    _flush_before_exec()
    if is_multiprocessing_child():
        make_worker()


def is_multiprocessing_child(argv: list[str] | None = None) -> bool:
    """Whether this interpreter was started by ``multiprocessing`` (spawn, forkserver).

    Both start their children as ``python -c 'from multiprocessing... '
    --multiprocessing-fork``; ``sys.orig_argv`` has that from the very start.
    """
    args: list[str] = list(getattr(sys, "orig_argv", None) or ()) if argv is None else argv
    return "--multiprocessing-fork" in args


def _flush_before_exec() -> None:
    """Flush the tracers before ``os.exec*`` replaces the program (no ``atexit`` runs).

    Every ``os.exec*`` function ends in ``os.execv`` or ``os.execve``, looked
    up in the ``os`` module at call time, so wrapping those two covers them
    all. The new program bootstraps again and joins the session.
    """
    for name in ("execv", "execve"):
        original = getattr(os, name, None)
        if original is None or getattr(original, "_honeyhive_agent_flush", False):
            continue
        setattr(os, name, _flushing(original))


def _flushing(original: Any) -> Any:
    def exec_(*args: Any, **kwargs: Any) -> Any:
        registry = sys.modules.get("honeyhive_agent.tracer.registry")
        if registry is not None:
            try:
                registry.flush_all()
            except Exception:  # noqa: BLE001 - the exec must happen regardless
                from honeyhive_agent._log import logger

                logger.debug("flush before exec failed", exc_info=True)
        return original(*args, **kwargs)

    exec_.__name__ = original.__name__
    exec_.__qualname__ = original.__qualname__
    exec_.__doc__ = original.__doc__
    exec_.__wrapped__ = original  # type: ignore[attr-defined]
    exec_._honeyhive_agent_flush = True  # type: ignore[attr-defined]
    return exec_


def make_worker() -> None:
    """This process is a multiprocessing worker: eager export, flush on every way out."""
    make_eager()
    _flush_on_os_exit()
    _flush_on_sigterm()


def _flush_now() -> None:
    """Flush every tracer of this process within the exit bound (never raises)."""
    registry = sys.modules.get("honeyhive_agent.tracer.registry")
    if registry is None:
        return  # no tracer was ever built here: nothing to send
    try:
        registry.flush_all()
    except Exception:  # noqa: BLE001 - the exit must happen regardless
        from honeyhive_agent._log import logger

        logger.debug("flush before exit failed", exc_info=True)


def _flush_on_os_exit() -> None:
    original = os._exit
    if getattr(original, "_honeyhive_agent_flush", False):
        return

    def _exit(status: int) -> Any:
        _flush_now()
        return original(status)

    _exit.__doc__ = original.__doc__
    _exit.__wrapped__ = original  # type: ignore[attr-defined]
    _exit._honeyhive_agent_flush = True  # type: ignore[attr-defined]
    os._exit = _exit


def _flush_on_sigterm() -> None:
    """On SIGTERM flush, then die of SIGTERM as before (only if the app kept the default)."""
    import signal

    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return

        def on_sigterm(signum: int, frame: Any) -> None:
            _flush_now()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

        signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:
        pass  # not the main thread: signal handlers cannot be set here


def make_eager() -> None:
    """Turn on eager export for every span processor of this process, now and later."""
    from honeyhive_agent import _hooks

    _hooks.when_imported(_BATCH_MODULE, _set_eager)


def _set_eager(module: ModuleType) -> None:
    module.set_export_on_local_root_end(True)


def _forked_by_multiprocessing() -> bool:
    # The at-fork hook runs in the frame stack of whoever called os.fork();
    # multiprocessing's Popen (and the forkserver) call it from its own modules.
    frame: FrameType | None = sys._getframe(2)
    for _ in range(8):
        if frame is None:
            return False
        name = frame.f_globals.get("__name__", "")
        if isinstance(name, str) and name.startswith("multiprocessing."):
            return True
        frame = frame.f_back
    return False


def _detach_from_parent_process() -> None:
    """Make the span current at ``fork`` time a *remote* parent in the child.

    Its span object lives on in the parent process, which ends and exports
    it. In the child, spans started under it are the child's local roots:
    marking the parent remote keeps them in the same trace while the
    processors (eager mode included) treat them as roots.
    """
    if "opentelemetry.trace" not in sys.modules:
        return  # no span can be current: the API was never imported
    from opentelemetry import context, trace

    parent = trace.get_current_span().get_span_context()
    if not parent.is_valid or parent.is_remote:
        return
    remote = trace.SpanContext(
        parent.trace_id, parent.span_id, is_remote=True,
        trace_flags=parent.trace_flags, trace_state=parent.trace_state,
    )
    context.attach(trace.set_span_in_context(trace.NonRecordingSpan(remote)))


def _after_fork_in_child() -> None:
    try:
        _detach_from_parent_process()
    except Exception:  # noqa: BLE001 - a fork hook must never break the child
        from honeyhive_agent._log import logger

        logger.debug("fork context hook failed", exc_info=True)
    try:
        if _forked_by_multiprocessing():
            make_worker()
        else:
            # A plain os.fork() child (a pre-fork server's worker, a daemon)
            # usually leaves through os._exit, skipping atexit: flush first.
            _flush_on_os_exit()
    except Exception:  # noqa: BLE001 - a fork hook must never break the child
        from honeyhive_agent._log import logger

        logger.debug("fork hook failed", exc_info=True)
