"""HoneyHive sessions: ids, names and their start on the backend.

A session groups spans in HoneyHive. Its id is generated here (uuid4), so
spans can be stamped at once; the backend learns about it through
``POST /session/start`` made off the app's threads: by the exporter right
before its first export, or by the API client's worker. With
``session.per: process`` there is one session per process (or the parent's,
joined through ``HH_SESSION_ID``); with ``session.per: trace`` every local
root span opens its own.
"""

from __future__ import annotations

import os
import sys
import threading
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from honeyhive_agent import semconv
from honeyhive_agent._log import logger
from honeyhive_agent._pycmd import python_target
from honeyhive_agent.config.model import DEFAULT_TRACER

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

    from honeyhive_agent.api_client import HoneyHiveClient
    from honeyhive_agent.config.model import TracerConfig

__all__ = ["Sessions", "default_session_name", "new_session_id"]

# Bounds the trace -> session map of ``session.per: trace``: enough for any
# realistic number of concurrent traces, small enough to ignore.
MAX_TRACKED_TRACES = 8192

# Entry points that run the app on the agent's behalf; never a session name.
_AGENT_MODULES = ("honeyhive_agent", "opentelemetry.instrumentation", "runpy")
_AGENT_SCRIPTS = ("honeyhive-run", "honeyhive-agent", "opentelemetry-instrument")

Attributes = dict[str, str]


def new_session_id() -> str:
    """A fresh client-side session id."""
    return str(uuid.uuid4())


def default_session_name(
    argv: Sequence[str] | None = None,
    orig_argv: Sequence[str] | None = None,
    main_module: str | None = None,
) -> str:
    """The name of what this process runs: ``app.py``, ``myapp.server``, ``mytool``.

    Works both in the app and early in the interpreter's start-up (from
    ``sitecustomize``, before ``sys.argv`` and ``__main__`` are final):
    ``__main__.__spec__`` is used when set, then the interpreter's original
    command line (``python -m pkg.mod``), then ``sys.argv[0]``. The agent's
    own launcher and bootstrap modules are never returned. The arguments
    exist for tests; by default they come from :mod:`sys`.
    """
    if main_module is None:
        spec = getattr(sys.modules.get("__main__"), "__spec__", None)
        main_module = getattr(spec, "name", None)
    if main_module and not _is_agent_module(main_module):
        return main_module.removesuffix(".__main__")
    if orig_argv is None:
        orig_argv = getattr(sys, "orig_argv", None) or ()
    from_command = _from_python_command(orig_argv[1:])
    if from_command is not None:
        return from_command
    if argv is None:
        argv = sys.argv
    script = argv[0] if argv else ""
    if script == "-c":
        return "python -c"
    base = os.path.basename(script)
    if base in ("", "-", "-m") or base in _AGENT_SCRIPTS:
        return "python"
    return base


def _is_agent_module(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in _AGENT_MODULES)


def _from_python_command(args: Sequence[str]) -> str | None:
    """The module of ``python [opts] -m MOD``, or ``python -c``; None otherwise."""
    kind, what = python_target(args)
    if kind == "c":
        return "python -c"
    if kind == "m" and what and not _is_agent_module(what):
        return what.removesuffix(".__main__")
    return None


def _owns(session_id: str) -> bool:
    """Whether this process generated ``session_id`` for its children to join.

    The bootstrap (:mod:`honeyhive_agent._bootstrap`) puts a fresh id in
    ``HH_SESSION_ID`` with its own pid in ``HH_SESSION_ROOT_PID``: that
    process starts the session, every descendant joins it.
    """
    return os.environ.get("HH_SESSION_ID") == session_id and os.environ.get(
        "HH_SESSION_ROOT_PID"
    ) == str(os.getpid())


def _handed_down(session_id: str) -> bool:
    """Whether ``session_id`` is this run's, handed down by the bootstrap (not the user's)."""
    return os.environ.get("HH_SESSION_ID") == session_id and bool(
        os.environ.get("HH_SESSION_ROOT_PID")
    )


def _tracer_session_id(config: TracerConfig) -> str | None:
    """The session id ``config`` joins: the configured one, or this tracer's of the run.

    The run's id (handed down by the bootstrap) belongs to the default
    tracer. Every other tracer of the run has a session of its own (it may
    send to another project): an id derived from the run's and the tracer's
    name, so that all processes of the run agree on it.
    """
    session_id = config.session.id
    if session_id is None or config.name == DEFAULT_TRACER or not _handed_down(session_id):
        return session_id
    try:
        run = uuid.UUID(session_id)
    except ValueError:
        run = uuid.uuid5(uuid.NAMESPACE_URL, session_id)
    return str(uuid.uuid5(run, config.name))


def _claim_start(session_id: str) -> bool:
    """Whether this process is the first of its run to start ``session_id``.

    Every process of a run shares the session its root generated, and the
    first of them to export starts it: the root may never export (a pool's
    parent, a gunicorn master). An ``O_EXCL`` marker file makes "first" hold
    across processes; without a usable temp dir only the root starts it.
    """
    import tempfile

    uid = os.getuid() if hasattr(os, "getuid") else "user"
    folder = os.path.join(tempfile.gettempdir(), f"honeyhive-agent-{uid}")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd = os.open(os.path.join(folder, session_id), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False
    except OSError:
        return _owns(session_id)
    os.close(fd)
    return True


class Sessions:
    """The sessions of one tracer and the span attributes that name them.

    :meth:`attributes_for` is the hot path (called for every span start);
    everything that talks to the backend runs on background threads.
    """

    def __init__(
        self,
        config: TracerConfig,
        session_name: str,
        client: HoneyHiveClient | None,
    ) -> None:
        self.config = config
        self.session_name = session_name
        self.per_trace = config.session.per == "trace"
        self.joined = config.session.id is not None and not _owns(config.session.id)
        self.process_id: str = _tracer_session_id(config) or new_session_id()
        self._client = client
        self._process_attrs = self._attributes(self.process_id, session_name)
        self._process_lock = threading.Lock()
        # A run's session is started by whichever of its processes exports
        # first; a session the user named (HH_SESSION_ID alone) is never started.
        self._claim = config.session.id is not None and _handed_down(config.session.id)
        self._process_started = self.joined and not self._claim
        # trace_id -> (session id, stamped attributes), oldest first.
        self._traces: OrderedDict[int, tuple[str, Attributes]] = OrderedDict()
        self._traces_lock = threading.Lock()
        # Traces that were open in the parent when this process was forked.
        self._forked_traces: frozenset[int] = frozenset()
        # client session id -> the id the backend answered, when they differ.
        self._api_ids: OrderedDict[str, str] = OrderedDict()
        _live.add(self)

    def _after_fork(self) -> None:
        # Another thread may have held a lock at fork time; the child has
        # only the forking thread, so fresh locks are safe and needed.
        self._process_lock = threading.Lock()
        self._traces_lock = threading.Lock()
        # A span of the child under one of the parent's traces has a remote
        # parent (see _fork) but belongs to that trace's session.
        self._forked_traces = frozenset(self._traces)

    # -- stamping ---------------------------------------------------------------

    def attributes_for(self, span: ReadableSpan) -> Attributes:
        """The session attributes to stamp on ``span`` (opening a session if due)."""
        if not self.per_trace:
            return self._process_attrs
        trace_id = span.context.trace_id if span.context is not None else 0
        parent = span.parent
        local_root = parent is None or parent.is_remote
        with self._traces_lock:
            if not local_root or trace_id in self._forked_traces:
                entry = self._traces.get(trace_id)
                if entry is not None:
                    return entry[1]
            # A local root, or a child whose root this tracer never saw (it
            # belongs to another tracer, or was evicted): a new session.
            name = self.config.session.name or span.name
            session_id = new_session_id()
            attrs = self._attributes(session_id, name)
            self._traces[trace_id] = (session_id, attrs)
            self._traces.move_to_end(trace_id)
            while len(self._traces) > MAX_TRACKED_TRACES:
                self._traces.popitem(last=False)
        client = self._client
        if client is not None:
            client.submit(lambda: self._start(session_id, name))
        return attrs

    def session_for_trace(self, trace_id: int) -> str | None:
        """The session id opened for ``trace_id`` (``session.per: trace``)."""
        with self._traces_lock:
            entry = self._traces.get(trace_id)
        return entry[0] if entry is not None else None

    def _attributes(self, session_id: str, name: str) -> Attributes:
        cfg = self.config
        attrs: Attributes = {
            semconv.SESSION_ID: session_id,
            semconv.SESSION_NAME: name,
            semconv.SOURCE: cfg.source,
            semconv.TRACELOOP_PREFIX + "session_id": session_id,
            semconv.TRACELOOP_PREFIX + "source": cfg.source,
            semconv.GEN_AI_CONVERSATION_ID: session_id,
            semconv.OTEL_SESSION_ID: session_id,
        }
        if cfg.project:
            attrs[semconv.PROJECT] = cfg.project
            attrs[semconv.TRACELOOP_PREFIX + "project"] = cfg.project
        return attrs

    # -- backend ----------------------------------------------------------------

    def ensure_process_started(self) -> None:
        """Start the process session once (blocking: call off the app's threads).

        A second caller waits for the first one's request, so that what it
        sends next (an event update) uses the id the backend answered.
        """
        if self._process_started or self.per_trace or self._client is None:
            return
        with self._process_lock:
            if self._process_started:
                return
            self._process_started = True
            if self._claim and not _claim_start(self.process_id):
                return  # another process of this run started it
            self._start(self.process_id, self.session_name)

    def api_id(self, session_id: str) -> str:
        """The id to use for ``session_id`` in REST calls (the backend's answer)."""
        with self._traces_lock:
            return self._api_ids.get(session_id, session_id)

    def _start(self, session_id: str, name: str) -> None:
        client = self._client
        if client is None:
            return
        adopted = client.start_session(
            session_id=session_id,
            session_name=name,
            source=self.config.source,
            project=self.config.project,
        )
        if adopted is None:
            logger.debug("spans keep session id %s", session_id)
            return
        if adopted != session_id:
            with self._traces_lock:
                self._api_ids[session_id] = adopted
                while len(self._api_ids) > MAX_TRACKED_TRACES:
                    self._api_ids.popitem(last=False)


_live: weakref.WeakSet[Sessions] = weakref.WeakSet()


def _reinit_after_fork() -> None:
    for sessions in list(_live):
        sessions._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_after_fork)
