"""A local fake of the OpenAI HTTP API for tests (stdlib only, loopback only).

Speaks the real wire formats closely enough for the real ``openai`` SDK:

* ``POST /v1/chat/completions`` - JSON, or SSE chunks ending in ``data: [DONE]``;
  ``stream_options.include_usage`` behaves like the real API (every chunk
  carries ``"usage": null`` and a last chunk has ``choices: []`` and the usage;
  each chunk ends with an ``"obfuscation"`` pad unless ``include_obfuscation``
  is false);
  tool calls (streamed as deltas), ``n > 1``.
* ``POST /v1/completions`` (legacy text completions, JSON and SSE),
  ``POST /v1/embeddings`` (``encoding_format`` float or base64),
  ``POST /v1/responses`` (JSON, or the typed SSE event stream
  ``response.created`` ... ``response.completed``).
* Azure-style paths: ``/openai/deployments/{d}/chat/completions?api-version=``
  (any path prefix is accepted; the endpoint is chosen by the path suffix).
* Errors with the real body ``{"error": {"message", "type", "param", "code"}}``.

Scriptable per test: ``server.script(text=..., tool_calls=..., error=429, delay=...)``
queues the next reply; without a script a default reply is sent. Every request
is recorded in ``server.requests``.

Run standalone (``python -m tests.fakes.openai_server``) to serve on a port.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DEFAULT_TEXT = "Hello from the fake OpenAI server."
CREATED = 1_700_000_000
FINGERPRINT = "fp_fake"

_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid value for 'temperature'."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided: x."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("server_error", None, "The engine is currently overloaded."),
}


@dataclass
class ToolCall:
    """A function call the fake model makes."""

    name: str
    arguments: str = "{}"
    id: str | None = None


@dataclass
class Script:
    """What the fake answers to one request."""

    text: str | list[str] | None = None
    """Reply text; a list gives one text per choice (``n > 1``)."""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    error: int | None = None
    """HTTP status of an error reply (400, 401, 429, 500, ...)."""
    error_message: str | None = None
    delay: float = 0.0
    """Seconds to wait before answering."""
    chunk_delay: float = 0.0
    stream_error_after: int | None = None
    """Send an SSE error event after this many chunks (the SDK raises APIError)."""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    response_model: str | None = None
    refusal: str | None = None
    prompt_filter: bool = False
    """Azure OpenAI: the stream opens with a ``prompt_filter_results`` chunk
    (``choices: []``, empty ``id`` and ``model``)."""


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


class FakeOpenAI:
    """The server; use as a context manager or call :meth:`close`."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._scripts: deque[Script] = deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.02,), name="fake-openai", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Server root, e.g. for ``AzureOpenAI(azure_endpoint=...)``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """``OpenAI(base_url=...)``."""
        return f"{self.url}/v1"

    def script(self, **kwargs: Any) -> Script:
        """Queue the reply to the next request (see :class:`Script`)."""
        script = Script(**kwargs)
        with self._lock:
            self._scripts.append(script)
        return script

    def next_script(self) -> Script:
        with self._lock:
            return self._scripts.popleft() if self._scripts else Script()

    fixed_ids = False
    """Every generated id ends in 0: replies to equal requests are equal."""

    def next_id(self) -> int:
        return 0 if self.fixed_ids else next(self._ids)

    @property
    def last(self) -> Recorded:
        return self.requests[-1]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pieces(text: str) -> list[str]:
    return re.findall(r"\S+\s*", text) or ([text] if text else [])


def _count_words(value: Any) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, dict):
        return sum(_count_words(v) for k, v in value.items() if k not in ("role", "type"))
    if isinstance(value, list):
        return sum(_count_words(v) for v in value)
    return 0


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeOpenAI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    # ------------------------------------------------------------------ plumbing
    def do_POST(self) -> None:
        fake = self.server_fake
        parts = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        fake.requests.append(
            Recorded("POST", parts.path, parse_qs(parts.query), dict(self.headers.items()), body)
        )
        script = fake.next_script()
        if script.delay:
            time.sleep(script.delay)
        if script.error is not None:
            self._error(script.error, script.error_message)
            return
        if not isinstance(body, dict):
            self._error(400, "We could not parse the JSON body of your request.")
            return
        path = parts.path.rstrip("/")
        if path.endswith("/chat/completions"):
            self._chat(body, script)
        elif path.endswith("/completions"):
            self._completions(body, script)
        elif path.endswith("/embeddings"):
            self._embeddings(body, script)
        elif path.endswith("/responses"):
            self._responses(body, script)
        else:
            self._error(404, f"Invalid URL (POST {parts.path})")

    def _json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-request-id", f"req_{self.server_fake.next_id()}")
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str | None) -> None:
        kind, code, default = _ERRORS.get(status, ("server_error", None, "Error."))
        self._json(
            status,
            {"error": {"message": message or default, "type": kind, "param": None, "code": code}},
        )

    def _sse_start(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.send_header("x-request-id", f"req_{self.server_fake.next_id()}")
        self.end_headers()
        self.close_connection = True

    def _sse(self, payload: Any, event: str | None = None) -> bool:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        head = f"event: {event}\n" if event else ""
        try:
            self.wfile.write(f"{head}data: {data}\n\n".encode())
            self.wfile.flush()
        except OSError:  # the client went away (closed stream)
            return False
        return True

    def _stream(self, events: list[tuple[str | None, Any]], script: Script) -> None:
        self._sse_start()
        for i, (event, payload) in enumerate(events):
            if script.stream_error_after is not None and i == script.stream_error_after:
                self._sse(
                    {"error": {"message": "stream interrupted", "type": "server_error",
                               "param": None, "code": None}}
                )
                return
            if script.chunk_delay:
                time.sleep(script.chunk_delay)
            if not self._sse(payload, event):
                return

    # ------------------------------------------------------------------ usage
    def _usage(self, body: Any, completion: int, script: Script) -> dict[str, Any]:
        prompt = script.prompt_tokens
        if prompt is None:
            prompt = _count_words(body.get("messages") or body.get("prompt") or body.get("input"))
            prompt += _count_words(body.get("instructions"))
        out = script.completion_tokens if script.completion_tokens is not None else completion
        return {
            "prompt_tokens": prompt,
            "completion_tokens": out,
            "total_tokens": prompt + out,
            "prompt_tokens_details": {"cached_tokens": script.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": script.reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    @staticmethod
    def _texts(script: Script, n: int) -> list[str]:
        if isinstance(script.text, list):
            return script.text
        text = DEFAULT_TEXT if script.text is None else script.text
        if script.tool_calls and script.text is None:
            text = ""
        return [text if n == 1 else f"{text} ({i})" for i in range(n)]

    def _tool_calls(self, script: Script) -> list[dict[str, Any]]:
        return [
            {
                "id": call.id or f"call_{self.server_fake.next_id()}",
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in script.tool_calls
        ]

    # ------------------------------------------------------------------ chat
    def _chat(self, body: dict[str, Any], script: Script) -> None:
        model = str(body.get("model", "gpt-test"))
        response_model = script.response_model or f"{model}-2025-01-01"
        n = int(body.get("n") or 1)
        texts = self._texts(script, n)
        calls = self._tool_calls(script)
        finish = script.finish_reason or ("tool_calls" if calls else "stop")
        cid = f"chatcmpl-{self.server_fake.next_id()}"
        pieces = [_pieces(t) for t in texts]
        completion = sum(len(p) for p in pieces) + sum(
            len(_pieces(c["function"]["arguments"])) for c in calls
        )
        usage = self._usage(body, completion, script)
        if not body.get("stream"):
            choices = []
            for i, text in enumerate(texts):
                message: dict[str, Any] = {
                    "role": "assistant",
                    "content": text or None,
                    "refusal": script.refusal,
                    "annotations": [],
                }
                if calls:
                    message["tool_calls"] = calls
                choices.append(
                    {"index": i, "message": message, "logprobs": None, "finish_reason": finish}
                )
            self._json(
                200,
                {
                    "id": cid,
                    "object": "chat.completion",
                    "created": CREATED,
                    "model": response_model,
                    "choices": choices,
                    "usage": usage,
                    "service_tier": "default",
                    "system_fingerprint": FINGERPRINT,
                },
            )
            return
        options = body.get("stream_options") or {}
        include_usage = bool(options.get("include_usage"))
        # The API pads each chunk with a random string, last, unless asked not to.
        pads = iter(range(1, 1 << 30)) if options.get("include_obfuscation", True) else None

        def chunk(choices: list[dict[str, Any]]) -> dict[str, Any]:
            out = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": CREATED,
                "model": response_model,
                "service_tier": "default",
                "system_fingerprint": FINGERPRINT,
                "choices": choices,
            }
            if include_usage:
                out["usage"] = None
            if pads is not None:
                out["obfuscation"] = "x" * (next(pads) % 7)
            return out

        def choice(i: int, delta: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
            return {"index": i, "delta": delta, "logprobs": None, "finish_reason": reason}

        events: list[tuple[str | None, Any]] = []
        if script.prompt_filter:
            results = {"hate": {"filtered": False, "severity": "safe"}}
            opening: dict[str, Any] = {
                "choices": [], "created": 0, "id": "", "model": "", "object": "",
                "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": results}],
            }
            events.append((None, opening | _null_usage(include_usage)))
        for i in range(n):
            first: dict[str, Any] = {"role": "assistant", "content": "", "refusal": None}
            events.append((None, chunk([choice(i, first)])))
            for piece in pieces[i] if i < len(pieces) else ():
                events.append((None, chunk([choice(i, {"content": piece})])))
            for j, call in enumerate(calls):
                head = {
                    "index": j,
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": call["function"]["name"], "arguments": ""},
                }
                events.append((None, chunk([choice(i, {"tool_calls": [head]})])))
                for piece in _pieces(call["function"]["arguments"]):
                    delta = {"tool_calls": [{"index": j, "function": {"arguments": piece}}]}
                    events.append((None, chunk([choice(i, delta)])))
            events.append((None, chunk([choice(i, {}, finish)])))
        if include_usage:
            last = chunk([])
            last["usage"] = usage
            events.append((None, last))
        events.append((None, "[DONE]"))
        self._stream(events, script)

    # ------------------------------------------------------------------ completions
    def _completions(self, body: dict[str, Any], script: Script) -> None:
        model = str(body.get("model", "gpt-3.5-turbo-instruct"))
        n = int(body.get("n") or 1)
        texts = self._texts(script, n)
        finish = script.finish_reason or "stop"
        cid = f"cmpl-{self.server_fake.next_id()}"
        pieces = [_pieces(t) for t in texts]
        usage = self._usage(body, sum(len(p) for p in pieces), script)
        del usage["prompt_tokens_details"], usage["completion_tokens_details"]
        base = {"id": cid, "object": "text_completion", "created": CREATED, "model": model}
        if not body.get("stream"):
            choices = [
                {"text": t, "index": i, "logprobs": None, "finish_reason": finish}
                for i, t in enumerate(texts)
            ]
            self._json(200, {**base, "choices": choices, "usage": usage})
            return
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        events: list[tuple[str | None, Any]] = []
        for i in range(n):
            for piece in pieces[i]:
                c = {"text": piece, "index": i, "logprobs": None, "finish_reason": None}
                events.append((None, {**base, "choices": [c]} | _null_usage(include_usage)))
            c = {"text": "", "index": i, "logprobs": None, "finish_reason": finish}
            events.append((None, {**base, "choices": [c]} | _null_usage(include_usage)))
        if include_usage:
            events.append((None, {**base, "choices": [], "usage": usage}))
        events.append((None, "[DONE]"))
        self._stream(events, script)

    # ------------------------------------------------------------------ embeddings
    def _embeddings(self, body: dict[str, Any], script: Script) -> None:
        inputs = body.get("input")
        items = inputs if isinstance(inputs, list) and inputs and not isinstance(
            inputs[0], int
        ) else [inputs]
        dims = int(body.get("dimensions") or 8)
        data = []
        for i, item in enumerate(items):
            vector = [round((len(str(item)) + k) / 100.0, 4) for k in range(dims)]
            if body.get("encoding_format") == "base64":
                encoded: Any = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
            else:
                encoded = vector
            data.append({"object": "embedding", "index": i, "embedding": encoded})
        tokens = script.prompt_tokens if script.prompt_tokens is not None else _count_words(inputs)
        self._json(
            200,
            {
                "object": "list",
                "data": data,
                "model": str(body.get("model", "text-embedding-3-small")),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    # ------------------------------------------------------------------ responses
    def _responses(self, body: dict[str, Any], script: Script) -> None:
        fake = self.server_fake
        model = str(body.get("model", "gpt-test"))
        text = self._texts(script, 1)[0]
        rid = f"resp_{fake.next_id()}"
        output: list[dict[str, Any]] = []
        if text:
            output.append(
                {
                    "type": "message",
                    "id": f"msg_{fake.next_id()}",
                    "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": text, "annotations": [],
                                 "logprobs": []}],
                }
            )
        for call in script.tool_calls:
            output.append(
                {
                    "type": "function_call",
                    "id": f"fc_{fake.next_id()}",
                    "call_id": call.id or f"call_{fake.next_id()}",
                    "name": call.name,
                    "arguments": call.arguments,
                    "status": "completed",
                }
            )
        pieces = _pieces(text)
        completion = len(pieces) + sum(len(_pieces(c.arguments)) for c in script.tool_calls)
        chat_usage = self._usage(body, completion, script)
        usage = {
            "input_tokens": chat_usage["prompt_tokens"],
            "input_tokens_details": {"cached_tokens": script.cached_tokens},
            "output_tokens": chat_usage["completion_tokens"],
            "output_tokens_details": {"reasoning_tokens": script.reasoning_tokens},
            "total_tokens": chat_usage["total_tokens"],
        }
        incomplete = script.finish_reason == "max_output_tokens"
        response = {
            "id": rid,
            "object": "response",
            "created_at": CREATED,
            "status": "incomplete" if incomplete else "completed",
            "error": None,
            "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "model": script.response_model or f"{model}-2025-01-01",
            "output": output,
            "parallel_tool_calls": True,
            "previous_response_id": body.get("previous_response_id"),
            "reasoning": {"effort": None, "summary": None},
            "store": True,
            "temperature": body.get("temperature", 1.0),
            "text": body.get("text") or {"format": {"type": "text"}},
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools") or [],
            "top_p": body.get("top_p", 1.0),
            "truncation": "disabled",
            "usage": usage,
            "user": None,
            "metadata": {},
        }
        if not body.get("stream"):
            self._json(200, response)
            return
        seq = itertools.count()
        events: list[tuple[str | None, Any]] = []

        def emit(kind: str, **payload: Any) -> None:
            events.append((kind, {"type": kind, "sequence_number": next(seq), **payload}))

        pending = {**response, "status": "in_progress", "output": [], "usage": None}
        emit("response.created", response=pending)
        emit("response.in_progress", response=pending)
        for index, item in enumerate(output):
            if item["type"] == "message":
                emit("response.output_item.added", output_index=index,
                     item={**item, "status": "in_progress", "content": []})
                empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
                emit("response.content_part.added", item_id=item["id"], output_index=index,
                     content_index=0, part=empty)
                for piece in pieces:
                    emit("response.output_text.delta", item_id=item["id"], output_index=index,
                         content_index=0, delta=piece, logprobs=[])
                emit("response.output_text.done", item_id=item["id"], output_index=index,
                     content_index=0, text=text, logprobs=[])
                emit("response.content_part.done", item_id=item["id"], output_index=index,
                     content_index=0, part=item["content"][0])
            else:
                emit("response.output_item.added", output_index=index,
                     item={**item, "status": "in_progress", "arguments": ""})
                for piece in _pieces(item["arguments"]):
                    emit("response.function_call_arguments.delta", item_id=item["id"],
                         output_index=index, delta=piece)
                emit("response.function_call_arguments.done", item_id=item["id"],
                     output_index=index, arguments=item["arguments"])
            emit("response.output_item.done", output_index=index, item=item)
        emit("response.incomplete" if incomplete else "response.completed", response=response)
        self._stream(events, script)


def _null_usage(include: bool) -> dict[str, Any]:
    return {"usage": None} if include else {}


if __name__ == "__main__":  # pragma: no cover - manual use
    with FakeOpenAI() as server:
        print(server.base_url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
