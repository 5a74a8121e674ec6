"""A tiny OpenAI-compatible server for the demo: canned answers, no network.

It speaks just enough of ``POST /v1/chat/completions`` (JSON and SSE
streams, with ``stream_options.include_usage``) for an unchanged OpenAI app
to run offline. Start it with ``python examples/openai_stub.py``; it prints
its base URL on the first line of stdout.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ANSWERS = {
    "default": "Paris is the capital of France.",
}


def _answer(body: dict[str, Any]) -> str:
    last = body.get("messages", [{}])[-1].get("content", "")
    if isinstance(last, str) and "haiku" in last.lower():
        return "Spans drift like leaves / each call a quiet footprint / sessions hold the trail"
    return ANSWERS["default"]


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if not self.path.rstrip("/").endswith("/chat/completions"):
            error = {"message": "not found", "type": "invalid_request_error"}
            self._send_json(404, {"error": error})
            return
        text = _answer(body)
        model = body.get("model", "gpt-4o-mini")
        usage = {"prompt_tokens": 12, "completion_tokens": len(text.split()), "total_tokens": 0}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        base = {"id": "chatcmpl-demo", "created": int(time.time()), "model": model}
        if not body.get("stream"):
            choice = {"index": 0, "finish_reason": "stop",
                      "message": {"role": "assistant", "content": text}}
            self._send_json(200, {**base, "object": "chat.completion", "choices": [choice],
                                  "usage": usage})
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        chunk = {**base, "object": "chat.completion.chunk"}
        words = text.split(" ")
        for i, word in enumerate(words):
            delta = {"content": word if i == 0 else " " + word}
            if i == 0:
                delta["role"] = "assistant"
            self._event({**chunk, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
        self._event({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            self._event({**chunk, "choices": [], "usage": usage})
        self.wfile.write(b"data: [DONE]\n\n")

    def _event(self, payload: dict[str, Any]) -> None:
        self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
        self.wfile.flush()

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    print(f"http://127.0.0.1:{server.server_address[1]}/v1", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
