"""The zero-code start: what ``sitecustomize`` and ``import honeyhive_agent.auto`` run.

:func:`start` loads the configuration, hands the session id down to child
processes, arms the fork and child-exit hooks and registers one lazy
post-import hook per enabled instrumentor. It imports nothing heavy: no LLM
SDK, no OpenTelemetry SDK, no exporter, not even our instrumentor modules;
those load when the app imports the library they patch, and tracers are
built on first use (:func:`honeyhive_agent.tracer.registry.get_or_create`).

:func:`start` never raises and never writes to stdout: a configuration error
is one clear line on stderr, any other failure one warning, and the app then
runs uninstrumented.
"""

from __future__ import annotations

import _thread  # not threading: the same lock, without that import at start-up
import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from honeyhive_agent.config.model import AgentConfig
    from honeyhive_agent.tracer import HoneyHiveTracer

__all__ = [
    "SESSION_ENV",
    "SESSION_ROOT_ENV",
    "is_disabled",
    "start",
    "started_config",
    "tracer_resolver",
]

SESSION_ENV = "HH_SESSION_ID"
"""The session children join; set by the first bootstrapped process of a run."""
SESSION_ROOT_ENV = "HH_SESSION_ROOT_PID"
"""The pid of the process that generated :data:`SESSION_ENV`. Its presence marks
the id as this run's (started by the run's first exporter), not one the user set."""

REPORTED_ENV = "HH_BOOTSTRAP_REPORTED"
"""Problems already reported by an ancestor process of this run (comma list)."""
RUN_DIR_ENV = "HH_RUN_DIR"
"""The run's starting directory (set by ``honeyhive-run``, else by the first
bootstrapped process): a relative ``local.path`` is under it in every process."""

_TRUE = frozenset({"1", "true", "yes", "on"})

_lock = _thread.allocate_lock()
_started = False
_config: AgentConfig | None = None
config_error: Exception | None = None
"""The configuration error reported at start-up (the registry then stays quiet)."""


def is_disabled(env: dict[str, str] | os._Environ[str] | None = None) -> bool:
    """Whether ``HH_DISABLED`` turns the agent off (checked before importing anything)."""
    value = (os.environ if env is None else env).get("HH_DISABLED", "")
    return value.strip().lower() in _TRUE


def started_config() -> AgentConfig | None:
    """The configuration :func:`start` loaded, or None when it did not start."""
    return _config


def start(origin: str = "sitecustomize") -> bool:
    """Arm the agent in this process; return whether it is active. Never raises.

    Idempotent: only the first call does anything (``sitecustomize`` and
    ``import honeyhive_agent.auto`` may both run in one process).
    """
    global _started
    with _lock:
        if _started:
            return _config is not None
        _started = True
    if is_disabled():
        return False
    try:
        return _start(origin)
    except Exception as exc:  # noqa: BLE001 - the app must run whatever happens here
        _warn_failed(exc)
        return False


def _reported_upstream(kind: str) -> bool:
    """Whether an ancestor process of this run already reported a ``kind`` problem.

    The first process says it once and marks the environment, so the same
    broken configuration does not print a line per child process.
    """
    reported = os.environ.get(REPORTED_ENV, "").split(",")
    if kind in reported:
        return True
    os.environ[REPORTED_ENV] = ",".join([r for r in reported if r] + [kind])
    return False


def _warn_failed(exc: BaseException) -> None:
    if _reported_upstream("start"):
        return
    try:
        from honeyhive_agent import _log

        _log.warn_once(
            "bootstrap",
            "could not start (%s: %s); the app runs without tracing",
            type(exc).__name__,
            exc,
        )
    except Exception:  # noqa: BLE001 - last resort: say it without the logger
        sys.stderr.write(f"honeyhive-agent: WARNING: could not start: {exc!r}\n")


def _start(origin: str) -> bool:
    global _config, config_error
    from honeyhive_agent.errors import ConfigurationError

    try:
        from honeyhive_agent.config.loader import load_config

        config = load_config()
    except ConfigurationError as exc:
        config_error = exc
        if _reported_upstream("config"):
            return False
        from honeyhive_agent import _log

        _log.configure()
        _log.logger.error("configuration error: %s; the app runs without tracing", exc)
        return False
    if config.disabled:
        return False
    _config = config
    # `logging` is imported only when there is something to say: warn_once
    # and the tracer registry configure the agent's logger when they need it.
    verbose = config.log_level.upper() in ("DEBUG", "INFO")
    if verbose:
        from honeyhive_agent import _log

        _log.configure(config.log_level)

    _publish_session(config)
    if config.source_file and not os.environ.get("HONEYHIVE_CONFIG"):
        # Children that run in another directory still read this run's file.
        os.environ["HONEYHIVE_CONFIG"] = os.path.abspath(config.source_file)
    if not os.environ.get(RUN_DIR_ENV):
        # ... and write to this run's local store (a relative local.path).
        try:  # noqa: SIM105 - contextlib would cost start-up time
            os.environ[RUN_DIR_ENV] = os.getcwd()
        except OSError:
            pass
    from honeyhive_agent import _fork

    _fork.install()

    from honeyhive_agent import _hooks

    _hooks.when_imported("concurrent.futures", _install_context_propagation)
    for name, (import_name, target) in _known().items():
        settings = config.instrumentor(name)
        if not settings.enabled:
            if verbose:
                _debug("instrumentor %s disabled by configuration", name)
            continue
        _hooks.when_imported(import_name, _instrument_hook(name, target))
    from honeyhive_agent import _peers

    _peers.watch(config)
    if verbose:
        _debug("started from %s (pid %d)", origin, os.getpid())
    return True


def _debug(message: str, *args: object) -> None:
    from honeyhive_agent._log import logger

    logger.debug(message, *args)


def _known() -> dict[str, tuple[str, str]]:
    """name -> (library import name, "module:Class" the bootstrap patches with).

    The class is the library's ``LLMPatcher`` (``instrumentors.PATCHERS``),
    not its ``BaseInstrumentor`` face (same state): that one would import
    ``opentelemetry.instrumentation`` inside the app's ``import`` of the library.
    """
    from instrumentors import KNOWN, PATCHERS

    return {name: (lib, PATCHERS.get(name, cls)) for name, (lib, cls) in KNOWN.items()}


def _publish_session(config: AgentConfig) -> None:
    """Give child processes this run's session id through the environment.

    The first bootstrapped process of a run generates the id and records its
    pid next to it; every process of the run (the root, its forks, spawns,
    subprocesses and ``os.exec*`` images) stamps that id, and the first of
    them to export starts the session (see ``tracer.session``). With
    ``session.per: trace`` each root span opens its own session and there is
    nothing to hand down.
    """
    if config.default_tracer.session.per == "trace":
        return
    if os.environ.get(SESSION_ENV):
        return  # a descendant (or an exec'd image) of a run: join it
    if config.default_tracer.session.id:
        return  # joining a configured session: the config already says so
    os.environ[SESSION_ENV] = _uuid4()
    os.environ[SESSION_ROOT_ENV] = str(os.getpid())
    if not any(t.session.name for t in config.tracers.values()):
        # One session, one name: the run's (whichever process starts it).
        os.environ["HH_SESSION_NAME"] = run_name()


def _uuid4() -> str:
    """A random (version 4) UUID string, like ``str(uuid.uuid4())``.

    Built by hand: the ``uuid`` module costs more start-up time than this
    whole function, and the tracer package (``new_session_id``) would pull in
    the OpenTelemetry SDK.
    """
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def run_name(orig_argv: list[str] | None = None) -> str:
    """What this run is called: ``app.py``, ``myapp.server``, ``uvicorn``, ``python -c``.

    From the interpreter's original command line, which (unlike
    ``sys.argv``) is complete when ``sitecustomize`` runs, read with the
    parser :func:`honeyhive_agent.tracer.session.default_session_name` uses
    (that module cannot be imported this early without the OpenTelemetry SDK).
    """
    from honeyhive_agent._pycmd import python_target

    args = list(getattr(sys, "orig_argv", None) or []) if orig_argv is None else orig_argv
    kind, what = python_target(args[1:])
    if kind == "c":
        return "python -c"
    if kind == "m":
        return what.removesuffix(".__main__") or "python"
    base = os.path.basename(what)
    return base if base and base != "-" else "python"


def tracer_resolver(name: str) -> Callable[[], HoneyHiveTracer | None]:
    """A zero-argument callable returning tracer ``name``, built on first call."""

    def resolve() -> HoneyHiveTracer | None:
        from honeyhive_agent.tracer import registry

        return registry.get_or_create(name)

    resolve.__qualname__ = resolve.__name__ = f"hh_tracer_{name}"
    return resolve


def _instrument_hook(name: str, target: str) -> Callable[[ModuleType], None]:
    def hook(module: ModuleType) -> None:
        instrument(name, target)

    hook.__name__ = f"instrument_{name}"
    return hook


def instrument(name: str, target: str) -> Any:
    """Import our instrumentor for ``name`` and patch its (imported) library.

    Honours ``on_conflict`` when a peer instrumentor already patched it.
    Returns the instrumentor, or None when the peer keeps the library.
    """
    import importlib

    from honeyhive_agent import _peers

    config = _config
    settings = config.instrumentor(name) if config is not None else None
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    instrumentor = cls()
    if not _peers.resolve_before_patch(name, instrumentor, settings):
        return None
    tracer_name = settings.tracer if settings is not None else "default"
    instrumentor.instrument(hh_tracer=tracer_resolver(tracer_name))
    _debug("instrumented %s (tracer %s)", name, tracer_name)
    return instrumentor


def _install_context_propagation(module: ModuleType) -> None:
    from honeyhive_agent.decorators.context import install_thread_context_propagation

    install_thread_context_propagation()
