"""HoneyHive REST calls: session start and event updates.

The agent talks to the REST API for exactly two things: starting a session
(``POST /session/start``) and enriching it (``PUT /events``). Both are small,
best-effort calls that must never slow down or break the app, so
:class:`HoneyHiveClient` never raises: failures are logged (one warning per
client, the rest at debug level) and reported through the return value.

Calls can be made synchronously from a background thread (the exporter's
worker does the session start right before its first export) or handed to
the client's own worker thread with :meth:`HoneyHiveClient.submit`, which
runs tasks one at a time from a bounded queue. ``httpx`` is imported on
first use, so creating a client costs nothing at start-up.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from honeyhive_agent import __version__
from honeyhive_agent._log import configure, logger

if TYPE_CHECKING:
    import httpx

__all__ = ["HoneyHiveClient"]

Task = Callable[[], object]

_STOP: Any = object()
_clients: weakref.WeakSet[HoneyHiveClient] = weakref.WeakSet()


class HoneyHiveClient:
    """A small, never-raising client for the HoneyHive REST API.

    ``server_url`` is the API base URL (``https://api.honeyhive.ai``),
    ``api_key`` is sent as ``Authorization: Bearer <api_key>`` and
    ``timeout_s`` bounds every request (connect, read and write).
    ``queue_size`` bounds the background queue of :meth:`submit`; tasks
    beyond it are dropped (and reported once) rather than buffered.
    """

    def __init__(
        self,
        server_url: str,
        api_key: str,
        timeout_s: float = 3.0,
        *,
        queue_size: int = 256,
    ) -> None:
        # On the constructing thread, not the worker: see OtlpHttpSpanExporter.
        import httpx  # noqa: F401

        self.server_url = server_url.rstrip("/")
        self.timeout_s = timeout_s
        self._api_key = api_key
        self._queue_size = queue_size
        self._http: httpx.Client | None = None
        self._http_lock = threading.Lock()
        self._warned = False
        self._closed = False
        self._init_worker_state()
        _clients.add(self)

    def __repr__(self) -> str:
        return f"HoneyHiveClient(server_url={self.server_url!r})"

    # -- REST calls (blocking; never raising) ---------------------------------

    def start_session(
        self,
        *,
        session_id: str,
        session_name: str | None = None,
        source: str | None = None,
        project: str | None = None,
        inputs: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> str | None:
        """``POST /session/start``; return the backend's session id, or None.

        Unset fields are left out of the body. The client-generated
        ``session_id`` is always sent, so spans stamped with it before the
        response arrives still land in this session.
        """
        session: dict[str, Any] = {
            "session_name": session_name,
            "source": source,
            "project": project,
            "inputs": inputs,
            "metadata": metadata,
            "session_id": session_id,
        }
        body = {"session": {k: v for k, v in session.items() if v is not None}}
        reply = self._call(
            "POST",
            "/session/start",
            body,
            what="start the HoneyHive session",
            then="spans keep flowing under the client-side session id",
        )
        if reply is None:
            return None
        adopted = reply.get("session_id") if isinstance(reply, dict) else None
        return adopted if isinstance(adopted, str) and adopted else session_id

    def update_event(self, event_id: str, **fields: Any) -> bool:
        """``PUT /events`` with ``{"event_id": event_id, **fields}``; True on success.

        Fields whose value is None are left out.
        """
        body: dict[str, Any] = {"event_id": event_id}
        body.update((k, v) for k, v in fields.items() if v is not None)
        reply = self._call(
            "PUT", "/events", body, what="update the HoneyHive session", then="update dropped"
        )
        return reply is not None

    # -- background worker ------------------------------------------------------

    def submit(self, task: Task) -> bool:
        """Run ``task`` on the client's worker thread; False if it was dropped.

        Exceptions from ``task`` are logged at debug level and swallowed.
        """
        if self._closed:
            return False
        with self._state_lock:
            self._pending += 1
        try:
            self._queue.put_nowait(task)
        except queue.Full:
            self._task_done()
            self._warn("HoneyHive API queue is full; dropping a session update")
            return False
        self._ensure_worker()
        return True

    def flush(self, timeout_s: float | None = None) -> bool:
        """Wait until every submitted task has run; False on timeout."""
        deadline = None if timeout_s is None else time.monotonic() + max(timeout_s, 0.0)
        with self._state_lock:
            while self._pending:
                if deadline is None:
                    self._idle.wait()
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def close(self, timeout_s: float | None = None) -> bool:
        """Flush within ``timeout_s``, then stop the worker (idempotent).

        Returns False when pending tasks could not finish in time; they are
        abandoned (the worker is a daemon thread and never delays exit).
        """
        if self._closed:
            return True
        flushed = self.flush(timeout_s)
        self._closed = True
        if not flushed:
            self._warn(
                "HoneyHive API at %s did not answer in time; %d session call(s) dropped",
                self.server_url,
                self._pending,
            )
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(_STOP)
        if flushed:
            with self._http_lock:
                http, self._http = self._http, None
            if http is not None:
                with contextlib.suppress(Exception):
                    http.close()
        return flushed

    # -- internals --------------------------------------------------------------

    def _init_worker_state(self) -> None:
        self._queue: queue.Queue[Task] = queue.Queue(self._queue_size)
        self._state_lock = threading.Lock()
        self._idle = threading.Condition(self._state_lock)
        self._pending = 0
        self._thread: threading.Thread | None = None

    def _after_fork(self) -> None:
        # The parent's worker thread and sockets do not exist in the child, and
        # their locks may have been held at fork time: start from scratch.
        self._init_worker_state()
        self._http = None
        self._http_lock = threading.Lock()

    def _ensure_worker(self) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive():
            return
        with self._state_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(
                target=self._run, name="honeyhive-api", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while True:
            task = self._queue.get()
            if task is _STOP:
                return
            try:
                task()
            except Exception as exc:  # noqa: BLE001 - a failed task must not stop the worker
                logger.debug("HoneyHive API task failed: %r", exc)
            finally:
                self._task_done()

    def _task_done(self) -> None:
        with self._state_lock:
            self._pending -= 1
            if self._pending <= 0:
                self._pending = 0
                self._idle.notify_all()

    def _client(self) -> httpx.Client:
        with self._http_lock:
            if self._http is None:
                import httpx

                self._http = httpx.Client(
                    base_url=self.server_url,
                    timeout=httpx.Timeout(self.timeout_s),
                    headers={
                        "Authorization": f"Bearer {self._api_key}",
                        "User-Agent": f"honeyhive-agent/{__version__}",
                    },
                )
            return self._http

    def _call(
        self, method: str, path: str, body: dict[str, Any], *, what: str, then: str
    ) -> Any:
        """One request; the decoded JSON reply ({} if none), or None on failure."""
        try:
            with _suppressed_instrumentation():
                response = self._client().request(method, path, json=body)
        except Exception as exc:  # noqa: BLE001 - network failures come in many types
            self._warn("could not %s (%s at %s); %s", what, type(exc).__name__,
                       self.server_url, then)
            return None
        if response.status_code >= 400:
            self._warn("could not %s (HTTP %d from %s); %s", what, response.status_code,
                       self.server_url, then)
            return None
        try:
            return response.json() if response.content else {}
        except ValueError:
            return {}

    def _warn(self, message: str, *args: object) -> None:
        # One warning per client, the rest at debug level: a dead backend
        # must not flood the app's stderr.
        level = logging.DEBUG if self._warned else logging.WARNING
        self._warned = True
        configure()
        logger.log(level, message, *args)


@contextlib.contextmanager
def _suppressed_instrumentation() -> Iterator[None]:
    """Keep the agent's own HTTP calls out of any HTTP-client instrumentation."""
    from opentelemetry import context

    token = context.attach(context.set_value(context._SUPPRESS_INSTRUMENTATION_KEY, True))
    try:
        yield
    finally:
        context.detach(token)


def _reinit_after_fork() -> None:
    for client in list(_clients):
        client._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_after_fork)
