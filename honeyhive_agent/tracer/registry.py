"""The process-wide map of tracer names to :class:`HoneyHiveTracer` instances.

Instrumentors and decorators route spans by tracer name (``tracer="research"``)
through this registry. It also owns the exit flush: an ``atexit`` hook,
registered when the first tracer is created, shuts every tracer down within
``shutdown_timeout_ms`` in total, so exit never hangs on a dead backend.

A tracer registers itself under its name when it is created, unless that
name is taken; :func:`register` and :func:`init` replace.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import sys
import threading
import weakref
from typing import TYPE_CHECKING

from honeyhive_agent._log import configure, logger
from honeyhive_agent.tracer._bounded import deadline_in, run_parallel

if TYPE_CHECKING:
    from honeyhive_agent.config.model import AgentConfig
    from honeyhive_agent.tracer.core import HoneyHiveTracer

__all__ = [
    "all_tracers",
    "flush_all",
    "get",
    "get_or_create",
    "init",
    "register",
    "reset",
    "shutdown_all",
]

DEFAULT_SHUTDOWN_TIMEOUT_MS = 5000

_lock = threading.RLock()
_named: dict[str, HoneyHiveTracer] = {}
# Every tracer created in this process, so the exit flush reaches unnamed
# ones too; weak, so short-lived tracers can be collected.
_created: weakref.WeakSet[HoneyHiveTracer] = weakref.WeakSet()
_config: AgentConfig | None = None
_unusable = False  # the agent is disabled or its configuration is invalid
# The exit flush's bound: the largest shutdown_timeout_ms seen (0 is a real
# bound: skip the flush); None until a tracer or configuration is known.
_exit_timeout_ms: int | None = None
_atexit_registered = False
_exiting = False  # the exit flush ran: no new tracers
_creating: set[str] = set()
# Names get_or_create() resolved to the default tracer (not in the config).
_aliases: dict[str, str] = {}


def get(name: str = "default") -> HoneyHiveTracer | None:
    """The tracer registered under ``name``, or None."""
    return _named.get(name)


def register(tracer: HoneyHiveTracer) -> None:
    """Register ``tracer`` under its name, replacing any previous one."""
    with _lock:
        _named[tracer.name] = tracer
        _track(tracer)


def all_tracers() -> list[HoneyHiveTracer]:
    """Every live tracer: the registered ones first, then unnamed ones."""
    with _lock:
        named = list(_named.values())
        return named + [t for t in list(_created) if t not in named]


def get_or_create(name: str = "default") -> HoneyHiveTracer | None:
    """The tracer ``name``, built from :func:`load_config` on first use.

    An unknown name falls back to the default tracer. Returns None when the
    agent is disabled (``HH_DISABLED``, ``disabled: true``) or its
    configuration is invalid; the latter is reported once, as a warning
    naming the problem. Never raises.
    """
    found = _named.get(name) or _named.get(_aliases.get(name, ""))
    if found is not None:
        return found
    try:
        return _get_or_create(name)
    except Exception as exc:  # noqa: BLE001 - zero-code paths never raise into the app
        _give_up("honeyhive-agent could not create tracer %r; tracing is off: %s", name, exc)
        return None


def _get_or_create(name: str) -> HoneyHiveTracer | None:
    global _config
    with _lock:
        found = _named.get(name)
        if found is not None or _unusable or _exiting or _creating:
            # _creating: a tracer's construction re-entered the registry (an
            # import hook during its set-up); that caller gets no tracer.
            return found
        if _config is None:
            from honeyhive_agent.config.loader import load_config
            from honeyhive_agent.errors import ConfigurationError

            try:
                config = load_config()
            except ConfigurationError as exc:
                if _reported_by_bootstrap():
                    _give_up_quietly()  # the bootstrap said it already: one message
                else:
                    _give_up("invalid honeyhive-agent configuration; tracing is off: %s", exc)
                return None
            configure(config.log_level)
            _config = config
        config = _config
        if config.disabled:
            _give_up_quietly()
            return None
        tracer_config = config.tracers.get(name)
        if tracer_config is None:
            _aliases[name] = config.default_tracer.name
            name = config.default_tracer.name
            found = _named.get(name)
            if found is not None:
                return found
            tracer_config = config.default_tracer
        _raise_exit_timeout(config.shutdown_timeout_ms)
        from honeyhive_agent.tracer.core import HoneyHiveTracer

        _creating.add(name)
        try:
            tracer = HoneyHiveTracer(tracer_config)
        finally:
            _creating.discard(name)
        _named[name] = tracer
        return tracer


def init(config: AgentConfig) -> dict[str, HoneyHiveTracer]:
    """Build and register every tracer of ``config``; return them by name.

    Tracers already registered under those names are replaced (they keep
    working for whoever holds them, and are still flushed at exit).
    """
    global _config, _unusable
    from honeyhive_agent.tracer.core import HoneyHiveTracer

    configure(config.log_level)
    with _lock:
        _config = config
        _unusable = False
        _raise_exit_timeout(config.shutdown_timeout_ms)
        built = {name: HoneyHiveTracer(tc) for name, tc in config.tracers.items()}
        for name, tracer in built.items():
            _named[name] = tracer
        return built


def shutdown_all(timeout_ms: int | None = None) -> bool:
    """Flush and shut down every tracer within ``timeout_ms`` in total.

    The tracers shut down concurrently, each with the whole budget, so one
    slow backend does not eat the others' time. Returns False when some
    tracer did not finish in time. Never raises.
    """
    budget = _budget(timeout_ms)
    deadline = deadline_in(budget)
    jobs = [functools.partial(t.shutdown, budget) for t in all_tracers()]
    return run_parallel(jobs, deadline, "shutdown")


def flush_all(timeout_ms: int | None = None) -> bool:
    """Force-flush every tracer concurrently within ``timeout_ms`` in total."""
    budget = _budget(timeout_ms)
    deadline = deadline_in(budget)
    jobs = [functools.partial(t.force_flush, budget) for t in all_tracers()]
    return run_parallel(jobs, deadline, "flush")


def _budget(timeout_ms: int | None) -> int:
    if timeout_ms is not None:
        return timeout_ms
    return DEFAULT_SHUTDOWN_TIMEOUT_MS if _exit_timeout_ms is None else _exit_timeout_ms


def reset(timeout_ms: int = 2000) -> None:
    """Shut down and forget every tracer and the loaded configuration (for tests)."""
    global _config, _unusable, _exit_timeout_ms
    shutdown_all(timeout_ms)
    with _lock:
        _named.clear()
        _aliases.clear()
        _created.clear()
        _config = None
        _unusable = False
        _exit_timeout_ms = None


def _adopt(tracer: HoneyHiveTracer) -> None:
    """Called by every new tracer: take its name if free, flush it at exit."""
    with _lock:
        _named.setdefault(tracer.name, tracer)
        _track(tracer)


def _forget(tracer: HoneyHiveTracer) -> None:
    """Unregister ``tracer`` (an inert stand-in that must not receive routed spans)."""
    with _lock:
        if _named.get(tracer.name) is tracer:
            del _named[tracer.name]
        _created.discard(tracer)


def _track(tracer: HoneyHiveTracer) -> None:
    global _atexit_registered
    _created.add(tracer)
    _raise_exit_timeout(tracer.config.shutdown_timeout_ms)
    if not _atexit_registered:
        _atexit_registered = True
        atexit.register(_at_exit)


def _raise_exit_timeout(timeout_ms: int) -> None:
    global _exit_timeout_ms
    if _exit_timeout_ms is None or timeout_ms > _exit_timeout_ms:
        _exit_timeout_ms = timeout_ms


def _at_exit() -> None:
    global _exiting
    _exiting = True
    interrupted = _ended_by_ctrl_c()
    try:
        shutdown_all(_budget(None))
    except Exception as exc:  # noqa: BLE001 - nothing may disturb interpreter exit
        logger.debug("exit flush failed: %r", exc)
    if interrupted:
        _keep_interrupt_exit_status()


def _ended_by_ctrl_c() -> bool:
    """Whether the program is ending with an uncaught KeyboardInterrupt (Ctrl-C).

    The interpreter printed it (``sys.last_value``) on its way out of the
    main module (or of ``runpy``, for ``python -m``). An interactive console
    that showed a KeyboardInterrupt (``code``, IPython) sets it as well, but
    from its own frames, and such a program still exits normally.
    """
    exc = getattr(sys, "last_value", None)
    tb = getattr(exc, "__traceback__", None)
    if not isinstance(exc, KeyboardInterrupt) or tb is None:
        return False
    return tb.tb_frame.f_globals.get("__name__") in ("__main__", "runpy")


def _keep_interrupt_exit_status() -> None:
    """Let Python still die by SIGINT (status 130) after an uncaught Ctrl-C.

    The interpreter remembers "the program ended with KeyboardInterrupt" in a
    flag that every ``exec``/``eval`` of a string clears, and the flush runs
    plenty of those (lazy imports creating dataclasses and namedtuples): the
    program would then exit with status 1 instead of 130. A KeyboardInterrupt
    raised through ``exec`` sets the flag again.
    """
    with contextlib.suppress(KeyboardInterrupt):
        exec("raise KeyboardInterrupt")


def _give_up(message: str, *args: object) -> None:
    global _unusable
    _unusable = True
    configure()
    logger.warning(message, *args)


def _reported_by_bootstrap() -> bool:
    """Whether a configuration error must stay unsaid: the zero-code bootstrap
    already reported it, or ``HH_DISABLED`` turns the agent off anyway."""
    bootstrap = sys.modules.get("honeyhive_agent._bootstrap")
    if getattr(bootstrap, "config_error", None) is not None:
        return True
    from honeyhive_agent._bootstrap import is_disabled

    return is_disabled()


def _give_up_quietly() -> None:
    global _unusable
    _unusable = True
