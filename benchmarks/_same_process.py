"""One process, traced and bare streams side by side (run under callgrind by
``instructions.py``).

``python _same_process.py MODE SINK SDK ROUNDS``: instruments for ``MODE``
(as ``_overhead_worker.py`` does), then in each round streams a long and a
short reply traced (the SDK method as patched) and bare (the same method's
``__wrapped__``, i.e. the SDK's own), each kind under its own C iterator, so
callgrind's ``--toggle-collect`` on ``map_next``, ``filter_next``,
``starmap_next`` and ``filterfalse_next`` counts the four apart. Spans are
exported between rounds, outside those four (no export runs on a timer).
Exits 3 when ``MODE`` does not patch the method itself (there is then no
bare twin in the process).
"""

from __future__ import annotations

import itertools
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _overhead_worker import (
    LONG_CHUNKS,
    MESSAGES,
    SHORT_CHUNKS,
    SYSTEM,
    Canned,
    anthropic_stream,
    http_module,
    openai_stream,
    setup_mode,
)

PER_ROUND = 3
"""Streams of each kind per round."""

TOGGLES = {  # C function -> which streams run under it
    "map_next": "traced long",
    "filter_next": "traced short",
    "starmap_next": "bare long",
    "filterfalse_next": "bare short",
}


def streams(sdk: str) -> tuple[Callable[[int], Any], Callable[[int], Any]]:
    """(traced, bare): each streams a reply of ``n`` chunks and consumes it."""
    module: Any = __import__(sdk)
    canned = Canned(http_module(module))
    canned.content_type = "text/event-stream"
    http = canned.httpx.Client(transport=canned.httpx.MockTransport(canned))
    if sdk == "openai":
        client = module.OpenAI(api_key="sk-bench", base_url="http://127.0.0.1:9/v1",
                               max_retries=0, http_client=http)
        resource = client.chat.completions
        bodies = {n: (openai_stream(n, False), openai_stream(n, True))
                  for n in (LONG_CHUNKS, SHORT_CHUNKS)}
        kwargs: dict[str, Any] = {"model": "gpt-4o-mini", "messages": MESSAGES,
                                  "max_tokens": 64, "temperature": 0.2, "stream": True}
    else:
        client = module.Anthropic(api_key="sk-ant-bench", base_url="http://127.0.0.1:9",
                                  max_retries=0, http_client=http)
        resource = client.messages
        bodies = {n: (anthropic_stream(n), b"") for n in (LONG_CHUNKS, SHORT_CHUNKS)}
        kwargs = {"model": "claude-sonnet-4-5", "system": SYSTEM, "messages": MESSAGES[1:],
                  "max_tokens": 64, "stream": True}
    patched = vars(type(resource))["create"]
    if type(patched).__name__ != "FunctionWrapper":  # wrapt's: patched right here
        sys.exit(3)
    original = patched.__wrapped__

    def run(create: Callable[..., Any], n: int) -> int:
        canned.body, canned.usage_body = bodies[n]
        return sum(1 for _ in create(**kwargs))

    def traced(n: int) -> int:
        return run(resource.create, n)

    def bare(n: int) -> int:
        return run(lambda **kw: original(resource, **kw), n)

    return traced, bare


def quiet_exporters() -> None:
    """No timed export wakes up in the background: a thread's work while a
    counted function runs is counted too. Spans go out at each ``flush()``."""
    os.environ["OTEL_BSP_SCHEDULE_DELAY"] = "3600000"
    config = Path(tempfile.mkdtemp()) / "honeyhive.yaml"
    config.write_text("batch:\n  schedule_delay_ms: 3600000\n")
    os.environ["HONEYHIVE_CONFIG"] = str(config)


def main() -> int:
    mode, sink, sdk, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    quiet_exporters()
    flush = setup_mode(mode, sink)
    traced, bare = streams(sdk)
    for _ in range(3):  # first-call paths, outside the counted functions
        for run in (traced, bare):
            run(LONG_CHUNKS)
            run(SHORT_CHUNKS)
    flush()
    for _ in range(rounds):
        list(map(lambda _: traced(LONG_CHUNKS), range(PER_ROUND)))
        list(filter(lambda _: traced(SHORT_CHUNKS) < 0, range(PER_ROUND)))
        list(itertools.starmap(lambda _: bare(LONG_CHUNKS), ((i,) for i in range(PER_ROUND))))
        list(itertools.filterfalse(lambda _: bare(SHORT_CHUNKS) < 0, range(PER_ROUND)))
        flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
