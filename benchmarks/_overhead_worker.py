"""One benchmark mode in one process, driven over stdin by ``overhead.py``.

Run as ``<mode's python> _overhead_worker.py --mode MODE --sink URL``.  It sets
up the mode's instrumentation (none, ours through a ``HoneyHiveTracer``, or a
peer's ``BaseInstrumentor`` on a global SDK provider), builds real ``openai``
and ``anthropic`` clients whose HTTP transport is an in-process mock returning
canned JSON/SSE bytes, then answers commands, one per line::

    run WORKLOAD N    ->  "RESULT {"median": s, "mean": s}"   (per call, then flushed)
    quit

Each call is timed on its own (``--clock cpu``: this thread's CPU time, the
default; ``wall``: elapsed time) and a block reports the median and mean per
call.  Spans are flushed after each block, outside the timing, so a block
measures what the app's thread pays; exporting happens between blocks.
Only the standard library, the SDKs and the mode's own packages are imported.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Shape of the canned traffic.  Stream workloads differ only in chunk count, so
# (long - short) / (LONG - SHORT) is the cost of one chunk alone.
LONG_CHUNKS = 200
SHORT_CHUNKS = 1
OURS = "honeyhive"
OURS_WITH_SDK_CHECKS = "honeyhive-sdk-checks"
"""Ours, but each stream event built by the SDK's own ``_process_response_data``."""
SYSTEM = "You are a terse assistant that answers in one sentence."
MESSAGES: list[Any] = [
    {"role": "system", "content": SYSTEM},
    {"role": "user", "content": "What is OpenTelemetry and why would I trace LLM calls?"},
]
ANSWER = "OpenTelemetry is a vendor-neutral standard for traces, metrics and logs."


def _sse(events: list[tuple[str | None, dict[str, Any] | str]]) -> bytes:
    out = []
    for name, data in events:
        payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
        out.append((f"event: {name}\n" if name else "") + f"data: {payload}\n\n")
    return "".join(out).encode()


def openai_body() -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "gpt-4o-mini-2024-07-18",
            "system_fingerprint": "fp_bench",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": ANSWER, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 31, "completion_tokens": 14, "total_tokens": 45},
        }
    ).encode()


def openai_stream(chunks: int, usage: bool) -> bytes:
    base = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_bench",
    }
    events: list[tuple[str | None, dict[str, Any] | str]] = []
    for i in range(chunks):
        delta: dict[str, Any] = {"content": f"tok{i} "}
        if i == 0:
            delta["role"] = "assistant"
        last = i == chunks - 1
        choice = {"index": 0, "delta": delta, "logprobs": None,
                  "finish_reason": "stop" if last else None}
        chunk = {**base, "choices": [choice]}
        if usage:
            # As the API does: with include_usage every chunk carries "usage": null.
            chunk["usage"] = None
        # and it ends each chunk with a random pad (stream_options.include_obfuscation)
        chunk["obfuscation"] = "abcdef"[: i % 6 + 1]
        events.append((None, chunk))
    if usage:
        usage_body = {"prompt_tokens": 31, "completion_tokens": chunks,
                      "total_tokens": 31 + chunks}
        events.append((None, {**base, "choices": [], "usage": usage_body, "obfuscation": "ab"}))
    events.append((None, "[DONE]"))
    return _sse(events)


def anthropic_body() -> bytes:
    return json.dumps(
        {
            "id": "msg_bench",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": ANSWER}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 31, "output_tokens": 14},
        }
    ).encode()


def anthropic_stream(chunks: int) -> bytes:
    message: dict[str, Any] = {
        "id": "msg_bench", "type": "message", "role": "assistant",
        "model": "claude-sonnet-4-5", "content": [], "stop_reason": None,
        "stop_sequence": None, "usage": {"input_tokens": 31, "output_tokens": 1},
    }
    events: list[tuple[str | None, dict[str, Any] | str]] = [
        ("message_start", {"type": "message_start", "message": message}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}}),
    ]
    for i in range(chunks):
        events.append(("content_block_delta", {"type": "content_block_delta", "index": 0,
                                               "delta": {"type": "text_delta",
                                                         "text": f"tok{i} "}}))
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta",
                           "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                           "usage": {"output_tokens": chunks}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    return _sse(events)


def http_module(sdk: Any) -> Any:
    """The httpx-like module ``sdk`` is built on (``httpx2`` for openai 3.x, else ``httpx``)."""
    base = importlib.import_module(f"{sdk.__name__}._base_client")
    return getattr(base, "httpx2", None) or base.httpx


class Canned:
    """Mock transport handler: answers with the body chosen for the current workload."""

    def __init__(self, httpx: Any) -> None:
        self.httpx = httpx
        self.body = b""
        self.usage_body = b""
        self.content_type = "application/json"

    def __call__(self, request: Any) -> Any:
        body = self.body
        # Mirror the real API: the usage chunk only comes when it was asked for.
        if self.usage_body and b'"include_usage":true' in request.content.replace(b" ", b""):
            body = self.usage_body
        return self.httpx.Response(
            200,
            headers={"content-type": self.content_type, "x-request-id": "req_bench"},
            content=body,
            request=request,
        )


def void(_: object) -> None:
    """Discard a result (flush functions return whether they succeeded)."""


def setup_mode(mode: str, sink: str) -> Callable[[], None]:
    """Instrument for ``mode``; return the function that flushes its spans."""
    if mode == "bare":
        return lambda: None
    if mode in (OURS, OURS_WITH_SDK_CHECKS):
        if mode == OURS_WITH_SDK_CHECKS:
            # The SDK's own per-event checks kept (see instrumentors/_construct.py):
            # what our instrumentation alone adds to a chunk.
            from instrumentors import _wire

            _wire.lean_process = lambda process, cast_to: process
        # Env is how a user configures the agent; load_config() reads it.
        os.environ.update({"HH_EXPORTERS": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": sink,
                           "HH_CAPTURE_CONTENT": "true", "HH_PROJECT": "bench"})
        from honeyhive_agent.config.loader import load_config
        from honeyhive_agent.tracer import HoneyHiveTracer

        tracer = HoneyHiveTracer(load_config().tracers["default"])
        from instrumentors.anthropic import AnthropicInstrumentor
        from instrumentors.openai import OpenAIInstrumentor

        OpenAIInstrumentor().instrument(hh_tracer=tracer)
        AnthropicInstrumentor().instrument(hh_tracer=tracer)
        return lambda: void(tracer.force_flush())

    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from peers import PEERS

    provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=sink + "/v1/traces")))
    trace.set_tracer_provider(provider)
    for spec in PEERS[mode].instrumentors.values():
        module, _, cls = spec.partition(":")
        getattr(importlib.import_module(module), cls)().instrument(tracer_provider=provider)
    return lambda: void(provider.force_flush())


Call = Callable[[], object]


def build_workloads(canned_oa: Canned, canned_an: Canned) -> dict[str, Callable[[], Call]]:
    """Workload name -> a selector that sets up the canned reply and returns the call.

    A call makes one request (consuming the whole stream for stream workloads).
    """
    import anthropic
    import openai

    oa = openai.OpenAI(api_key="sk-bench", base_url="http://127.0.0.1:9/v1", max_retries=0,
                       http_client=canned_oa.httpx.Client(
                           transport=canned_oa.httpx.MockTransport(canned_oa)))
    an = anthropic.Anthropic(api_key="sk-ant-bench", base_url="http://127.0.0.1:9",
                             max_retries=0,
                             http_client=canned_an.httpx.Client(
                                 transport=canned_an.httpx.MockTransport(canned_an)))

    def oa_call() -> object:
        return oa.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES,
                                          max_tokens=64, temperature=0.2)

    def oa_stream() -> object:
        stream = oa.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES,
                                            max_tokens=64, temperature=0.2, stream=True)
        return sum(1 for _ in stream)

    def oa_usage_stream() -> object:
        # The app asks for usage itself: every mode then gets the same chunks.
        stream = oa.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES,
                                            max_tokens=64, temperature=0.2, stream=True,
                                            stream_options={"include_usage": True})
        return sum(1 for _ in stream)

    def an_call() -> object:
        return an.messages.create(model="claude-sonnet-4-5", system=SYSTEM,
                                  messages=MESSAGES[1:], max_tokens=64)

    def an_stream() -> object:
        stream = an.messages.create(model="claude-sonnet-4-5", system=SYSTEM,
                                    messages=MESSAGES[1:], max_tokens=64, stream=True)
        return sum(1 for _ in stream)

    bodies: dict[str, tuple[Canned, bytes, bytes, str, Callable[[], object]]] = {
        "openai.call": (canned_oa, openai_body(), b"", "application/json", oa_call),
        "openai.stream.long": (canned_oa, openai_stream(LONG_CHUNKS, False),
                               openai_stream(LONG_CHUNKS, True), "text/event-stream", oa_stream),
        "openai.stream.short": (canned_oa, openai_stream(SHORT_CHUNKS, False),
                                openai_stream(SHORT_CHUNKS, True), "text/event-stream", oa_stream),
        "openai.ustream.long": (canned_oa, openai_stream(LONG_CHUNKS, False),
                                openai_stream(LONG_CHUNKS, True), "text/event-stream",
                                oa_usage_stream),
        "openai.ustream.short": (canned_oa, openai_stream(SHORT_CHUNKS, False),
                                 openai_stream(SHORT_CHUNKS, True), "text/event-stream",
                                 oa_usage_stream),
        "anthropic.call": (canned_an, anthropic_body(), b"", "application/json", an_call),
        "anthropic.stream.long": (canned_an, anthropic_stream(LONG_CHUNKS), b"",
                                  "text/event-stream", an_stream),
        "anthropic.stream.short": (canned_an, anthropic_stream(SHORT_CHUNKS), b"",
                                   "text/event-stream", an_stream),
    }

    def selecting(canned: Canned, body: bytes, usage: bytes, ctype: str,
                  fn: Call) -> Callable[[], Call]:
        def select() -> Call:
            canned.body, canned.usage_body, canned.content_type = body, usage, ctype
            return fn

        return select

    return {name: selecting(*spec) for name, spec in bodies.items()}


def profile(call: Callable[[], object], n: int, flush: Callable[[], None]) -> int:
    """Print where ``n`` calls spend their time (top functions by own time)."""
    import cProfile
    import pstats

    for _ in range(20):  # warm up first-call paths
        call()
    flush()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        call()
    prof.disable()
    flush()
    stats = pstats.Stats(prof, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(35)
    stats.sort_stats("cumulative").print_stats(r"instrumentors|honeyhive_agent|opentelemetry", 35)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", required=True)
    parser.add_argument("--sink", required=True)
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    parser.add_argument("--profile", nargs=2, metavar=("WORKLOAD", "N"),
                        help="profile N calls of WORKLOAD with cProfile instead of serving")
    args = parser.parse_args()
    # CPU time of this thread: what the app's thread computes, unaffected by other
    # processes taking the core (the machine is shared) or by our exporter thread.
    clock = time.thread_time_ns if args.clock == "cpu" else time.perf_counter_ns

    if args.mode != "honeyhive":
        # Peers get their best case: no duplicate span from anthropic's own tracing.
        os.environ.setdefault("ANTHROPIC_OPEN_TELEMETRY", "false")
    flush = setup_mode(args.mode, args.sink)
    import anthropic
    import openai

    workloads = build_workloads(Canned(http_module(openai)), Canned(http_module(anthropic)))
    if args.profile:
        return profile(workloads[args.profile[0]](), int(args.profile[1]), flush)
    out = sys.stdout
    out.write("READY " + json.dumps({"openai": openai.__version__,
                                     "anthropic": anthropic.__version__}) + "\n")
    out.flush()
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        name, n = cmd[1], int(cmd[2])
        call = workloads[name]()
        times = []
        for _ in range(n):
            t0 = clock()
            call()
            times.append(clock() - t0)
        flush()
        times.sort()
        result = {"median": times[n // 2] / 1e9, "mean": sum(times) / n / 1e9}
        out.write("RESULT " + json.dumps(result) + "\n")
        out.flush()
    flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
