"""A scriptable fake of the Anthropic Messages API on 127.0.0.1.

It speaks the real wire format, so the real ``anthropic`` SDK can be pointed
at it (``Anthropic(base_url=server.url, api_key="x", max_retries=0)``):

- ``POST /v1/messages``: a JSON ``message`` or, with ``"stream": true``, the
  server-sent events ``message_start``, ``content_block_start``,
  ``content_block_delta`` (``text_delta``, ``input_json_delta``,
  ``thinking_delta``, ``signature_delta``), ``content_block_stop``,
  ``message_delta``, ``message_stop`` and ``ping``;
- ``POST /v1/messages/count_tokens``;
- Vertex AI paths (``.../publishers/anthropic/models/{model}:rawPredict`` and
  ``:streamRawPredict``) and Bedrock's ``/model/{id}/invoke`` (JSON only:
  Bedrock streams use AWS event-stream framing, which needs botocore);
- errors with the real body ``{"type": "error", "error": {...}}`` and a
  ``request-id`` header.

Tests queue replies with :meth:`FakeAnthropic.script`; without a script every
call gets :attr:`FakeAnthropic.default`. Every request is kept in
:attr:`FakeAnthropic.requests`.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "ERROR_TYPES",
    "ErrorReply",
    "FakeAnthropic",
    "Recorded",
    "Reply",
    "redacted_thinking",
    "text",
    "thinking",
    "tool_use",
]

# The API's error type for each status code it documents.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}

_VERTEX = re.compile(r"/publishers/anthropic/models/(?P<model>[^/:]+):(?P<verb>\w+)$")
_BEDROCK = re.compile(r"^/model/(?P<model>[^/]+)/(?P<verb>invoke(?:-with-response-stream)?)$")
_ids = itertools.count(1)


def text(value: str) -> dict[str, Any]:
    """A ``text`` content block."""
    return {"type": "text", "text": value}


def tool_use(name: str, input: dict[str, Any], id: str | None = None) -> dict[str, Any]:
    """A ``tool_use`` content block."""
    return {"type": "tool_use", "id": id or f"toolu_{next(_ids):04d}", "name": name, "input": input}


def thinking(value: str, signature: str = "sig-abc") -> dict[str, Any]:
    """A ``thinking`` content block (extended thinking)."""
    return {"type": "thinking", "thinking": value, "signature": signature}


def redacted_thinking(data: str = "opaque") -> dict[str, Any]:
    """A ``redacted_thinking`` content block."""
    return {"type": "redacted_thinking", "data": data}


@dataclass
class Reply:
    """A successful answer: JSON, or SSE when the request asks to stream.

    ``usage`` is merged over ``{"input_tokens": 12, "output_tokens": 7}``; add
    ``cache_creation_input_tokens`` / ``cache_read_input_tokens`` or
    ``output_tokens_details`` as needed. For streams, ``chunk`` is the size
    of each text/json/thinking delta, ``error_after`` sends an ``error`` event
    after that many events, and ``drop_after`` cuts the connection there.
    """

    content: list[dict[str, Any]] = field(default_factory=lambda: [text("Hello there!")])
    stop_reason: str | None = "end_turn"
    stop_sequence: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    model: str | None = None
    id: str | None = None
    chunk: int = 4
    ping: bool = True
    error_after: int | None = None
    error_type: str = "overloaded_error"
    drop_after: int | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def message(self, model: str) -> dict[str, Any]:
        """The whole ``message`` object, as the JSON endpoint returns it."""
        return {
            "id": self.id or "msg_fake_0001",
            "type": "message",
            "role": "assistant",
            "model": self.model or model,
            "content": self.content,
            "stop_reason": self.stop_reason,
            "stop_sequence": self.stop_sequence,
            "usage": self.full_usage(),
        }

    def full_usage(self) -> dict[str, Any]:
        return {"input_tokens": 12, "output_tokens": 7, **self.usage}

    def events(self, model: str) -> list[tuple[str, dict[str, Any]]]:
        """The SSE events of this reply, in order, as ``(event, data)``."""
        usage = self.full_usage()
        start_usage = {k: v for k, v in usage.items() if k != "output_tokens_details"}
        start_usage["output_tokens"] = 1
        start = {**self.message(model), "content": [], "stop_reason": None, "usage": start_usage}
        out: list[tuple[str, dict[str, Any]]] = [
            ("message_start", {"type": "message_start", "message": start})
        ]
        if self.ping:
            out.append(("ping", {"type": "ping"}))
        for index, block in enumerate(self.content):
            out.extend(_block_events(index, block, self.chunk))
        delta_usage: dict[str, Any] = {"output_tokens": usage["output_tokens"]}
        if "output_tokens_details" in usage:
            delta_usage["output_tokens_details"] = usage["output_tokens_details"]
        out.append(
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": self.stop_reason, "stop_sequence": self.stop_sequence},
                    "usage": delta_usage,
                },
            )
        )
        out.append(("message_stop", {"type": "message_stop"}))
        return out


@dataclass
class ErrorReply:
    """An API error with the real envelope; ``type`` defaults from the status."""

    status: int
    message: str = "fake error"
    type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self, request_id: str) -> dict[str, Any]:
        kind = self.type or ERROR_TYPES.get(self.status, "api_error")
        return {
            "type": "error",
            "error": {"type": kind, "message": self.message},
            "request_id": request_id,
        }


@dataclass
class Recorded:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


def _pieces(value: str, size: int) -> list[str]:
    return [value[i : i + size] for i in range(0, len(value), size)] or [""]


def _block_events(index: int, block: dict[str, Any], size: int) -> list[tuple[str, dict[str, Any]]]:
    kind = block["type"]
    deltas: list[dict[str, Any]] = []
    if kind == "text":
        empty: dict[str, Any] = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": p} for p in _pieces(block["text"], size)]
    elif kind == "tool_use":
        empty = {**block, "input": {}}
        raw = json.dumps(block["input"])
        deltas = [{"type": "input_json_delta", "partial_json": p} for p in _pieces(raw, size)]
    elif kind == "thinking":
        empty = {"type": "thinking", "thinking": "", "signature": ""}
        pieces = _pieces(block["thinking"], size)
        deltas = [{"type": "thinking_delta", "thinking": p} for p in pieces]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
    else:  # redacted_thinking and anything else arrive whole
        empty = block
    start = {"type": "content_block_start", "index": index, "content_block": empty}
    out = [("content_block_start", start)]
    out += [
        ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
        for d in deltas
    ]
    out.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    return out


class FakeAnthropic:
    """The server; use as a context manager or call :meth:`start` / :meth:`stop`."""

    def __init__(self) -> None:
        self.default: Reply | ErrorReply = Reply()
        self.requests: list[Recorded] = []
        self.count_tokens = 42
        self._script: deque[Reply | ErrorReply] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL for ``Anthropic(base_url=...)``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def last(self) -> Recorded:
        """The most recent request."""
        return self.requests[-1]

    def script(self, *replies: Reply | ErrorReply) -> None:
        """Queue replies for the next calls, in order."""
        with self._lock:
            self._script.extend(replies)

    def next_reply(self) -> Reply | ErrorReply:
        with self._lock:
            return self._script.popleft() if self._script else self.default

    def start(self) -> FakeAnthropic:
        # A short poll interval keeps stop() (run after every test) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler(fake: FakeAnthropic) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            path = self.path.split("?", 1)[0]
            headers = {k.lower(): v for k, v in self.headers.items()}
            with fake._lock:
                fake.requests.append(Recorded("POST", self.path, headers, body))
            request_id = f"req_fake_{next(_ids):06d}"
            body = body if isinstance(body, dict) else {}
            if path.endswith("/count_tokens") or path.endswith("count-tokens:rawPredict"):
                self._json(200, {"input_tokens": fake.count_tokens}, request_id)
                return
            model = str(body.get("model", ""))
            stream = bool(body.get("stream"))
            if m := _VERTEX.search(path):
                model, stream = m["model"], m["verb"] == "streamRawPredict"
            elif m := _BEDROCK.match(path):
                model, stream = m["model"], m["verb"] != "invoke"
            elif path != "/v1/messages":
                self._json(404, ErrorReply(404, f"no route {path}").body(request_id), request_id)
                return
            reply = fake.next_reply()
            if isinstance(reply, ErrorReply):
                self._json(reply.status, reply.body(request_id), request_id, reply.headers)
            elif stream:
                self._sse(reply, model, request_id)
            else:
                self._json(200, reply.message(model), request_id, reply.headers)

        def _json(
            self,
            status: int,
            payload: dict[str, Any],
            request_id: str,
            headers: dict[str, str] | None = None,
        ) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("request-id", request_id)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _sse(self, reply: Reply, model: str, request_id: str) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream; charset=utf-8")
            self.send_header("cache-control", "no-cache")
            self.send_header("request-id", request_id)
            # Chunked, so a cut connection is a broken body rather than a short one.
            self.send_header("transfer-encoding", "chunked")
            # We close after the stream: say so, or the client pools the
            # connection and its next request can race our close.
            self.send_header("connection", "close")
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.close_connection = True
            try:
                for n, (event, data) in enumerate(reply.events(model)):
                    if reply.drop_after is not None and n >= reply.drop_after:
                        # Cut mid-stream: no terminating chunk, the client sees a broken body.
                        self.wfile.flush()
                        self.connection.shutdown(2)
                        return
                    if reply.error_after is not None and n >= reply.error_after:
                        err = ErrorReply(529, "Overloaded", reply.error_type).body(request_id)
                        self._event("error", err)
                        break
                    self._event(event, data)
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return  # the client abandoned the stream

        def _event(self, event: str, data: dict[str, Any]) -> None:
            chunk = f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()

    return Handler
