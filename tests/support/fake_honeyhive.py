"""A fake HoneyHive backend on loopback, for tests.

Usage::

    with FakeHoneyHive() as hh:
        tracer = HoneyHiveTracer(api_key="k", server_url=hh.url, project="p")
        ...
        hh.wait_for_sessions(1)
        assert hh.sessions[0]["session"]["project"] == "p"
        spans = hh.wait_for_spans(2)

Routes (``route`` names in brackets, for :meth:`respond_with` /
:meth:`set_delay` / :meth:`requests_for`):

- ``POST /session/start`` [``session``]: records the JSON body in
  :attr:`sessions` and answers ``{"session_id": <requested id or a new uuid>}``.
- ``PUT /events`` [``events``]: records the JSON body in :attr:`events`.
- ``POST /opentelemetry/v1/traces`` [``traces``]: OTLP protobuf or JSON,
  spans decoded into :attr:`spans` (same dict shape as
  :func:`tests.support.otlp_receiver.decode_export_request`).

Headers of each request are in :attr:`requests` (``requests_for("session")[0]
["headers"]["authorization"]``). With ``api_key=...`` every request without
``Authorization: Bearer <api_key>`` gets a 401.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.support.otlp_receiver import Request, _RecordingServer

__all__ = ["FakeHoneyHive"]


class FakeHoneyHive(_RecordingServer):
    """Session start, events and the OTLP traces endpoint of HoneyHive."""

    def __init__(self, *, api_key: str | None = None, port: int = 0) -> None:
        super().__init__(port=port)
        self.api_key = api_key
        self.sessions: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []

    def __enter__(self) -> FakeHoneyHive:
        self.start()
        return self

    @property
    def traces_url(self) -> str:
        return self.url + "/opentelemetry/v1/traces"

    def _clear_extra(self) -> None:
        self.sessions.clear()
        self.events.clear()

    def wait_for_sessions(self, n: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until ``n`` session-start bodies arrived; return them all."""
        return self._wait_for(lambda: self.sessions, n, timeout, "sessions")

    def wait_for_events(self, n: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until ``n`` ``PUT /events`` bodies arrived; return them all."""
        return self._wait_for(lambda: self.events, n, timeout, "events")

    def _route(self, method: str, path: str) -> str | None:
        path = path.rstrip("/")
        if method == "POST" and path.endswith("/session/start"):
            return "session"
        if method == "PUT" and path.endswith("/events"):
            return "events"
        if method == "POST" and path.endswith("/opentelemetry/v1/traces"):
            return "traces"
        return None

    def _handle(self, route: str, request: Request) -> tuple[int, dict[str, str], bytes]:
        expected = f"Bearer {self.api_key}"
        if self.api_key is not None and request["headers"].get("authorization") != expected:
            return 401, {"Content-Type": "application/json"}, b'{"error": "unauthorized"}'
        if route == "traces":
            return self._accept_spans(request)
        try:
            body = json.loads(request["body"].decode("utf-8") or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"invalid JSON body: {exc}") from exc
        if not isinstance(body, dict):
            raise ValueError("JSON body is not an object")
        request["json"] = body
        if route == "session":
            session = body.get("session")
            requested = session.get("session_id") if isinstance(session, dict) else None
            session_id = requested or str(uuid.uuid4())
            self._record(self.sessions, body)
            answer = {"session_id": session_id}
        else:
            self._record(self.events, body)
            answer = {"success": True}
        return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()

    def _record(self, into: list[dict[str, Any]], body: dict[str, Any]) -> None:
        with self._lock:
            into.append(body)
            self._lock.notify_all()
