"""Parentage: nested spans, pool threads, asyncio tasks, and no mixing between them."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from honeyhive_agent import trace
from honeyhive_agent.decorators import (
    install_thread_context_propagation,
    uninstall_thread_context_propagation,
)
from honeyhive_agent.decorators.context import is_thread_context_propagation_installed
from tests.decorators._helpers import attrs, finished, parent_id
from tests.decorators.conftest import MakeTracer


def _by_name(exporter: InMemorySpanExporter) -> dict[str, list[object]]:
    out: dict[str, list[object]] = {}
    for span in finished(exporter):
        out.setdefault(span.name, []).append(span)
    return out


def test_nested_spans_form_a_tree(exporter: InMemorySpanExporter) -> None:
    @trace(event_name="leaf")
    def leaf() -> int:
        return 1

    @trace(event_name="middle")
    def middle() -> int:
        return leaf() + leaf()

    @trace(event_name="root", event_type="chain")
    def root() -> int:
        return middle()

    assert root() == 2
    spans = {s.name: s for s in finished(exporter)}
    leaves = [s for s in finished(exporter) if s.name == "leaf"]
    assert len(leaves) == 2
    assert parent_id(spans["root"]) is None
    assert parent_id(spans["middle"]) == spans["root"].context.span_id
    assert all(parent_id(s) == spans["middle"].context.span_id for s in leaves)
    trace_ids = {s.context.trace_id for s in finished(exporter)}
    assert len(trace_ids) == 1


def test_context_restored_after_call(exporter: InMemorySpanExporter) -> None:
    before = otel_trace.get_current_span()

    @trace
    def f() -> None:
        assert otel_trace.get_current_span() is not before

    f()
    assert otel_trace.get_current_span() is before
    with pytest.raises(ValueError):
        trace(lambda: (_ for _ in ()).throw(ValueError("x")))()
    assert otel_trace.get_current_span() is before


def test_generator_body_runs_in_its_span_but_caller_does_not(
    exporter: InMemorySpanExporter,
) -> None:
    seen_inside: list[int] = []

    @trace(event_name="child")
    def child() -> int:
        return 0

    @trace(event_name="gen")
    def gen() -> Iterator[int]:
        for i in range(2):
            seen_inside.append(current_id())
            yield child() + i

    def current_id() -> int:
        return otel_trace.get_current_span().get_span_context().span_id

    @trace(event_name="consumer")
    def consumer() -> list[int]:
        me = current_id()
        out = []
        for item in gen():
            # Between items the consumer's own span is current again.
            assert current_id() == me
            out.append(item)
        return out

    assert consumer() == [0, 1]
    spans = _by_name(exporter)
    gen_span = spans["gen"][0]
    assert set(seen_inside) == {gen_span.context.span_id}  # type: ignore[attr-defined]
    for c in spans["child"]:
        assert parent_id(c) == gen_span.context.span_id  # type: ignore[arg-type, attr-defined]
    assert parent_id(gen_span) == spans["consumer"][0].context.span_id  # type: ignore[arg-type, attr-defined]


def test_thread_pool_children_nest_under_submitter(exporter: InMemorySpanExporter) -> None:
    @trace(event_name="work")
    def work(i: int) -> int:
        return i * 2

    @trace(event_name="fan_out")
    def fan_out() -> list[int]:
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = [pool.submit(work, i) for i in range(8)]
            mapped = list(pool.map(work, range(8, 12)))
            return [f.result() for f in futures] + mapped

    assert fan_out() == [i * 2 for i in range(12)]
    spans = _by_name(exporter)
    root = spans["fan_out"][0]
    assert len(spans["work"]) == 12
    for span in spans["work"]:
        assert parent_id(span) == root.context.span_id  # type: ignore[arg-type, attr-defined]


def test_propagation_is_idempotent_and_reversible() -> None:
    install_thread_context_propagation()
    install_thread_context_propagation()
    assert is_thread_context_propagation_installed()
    var: contextvars.ContextVar[str] = contextvars.ContextVar("probe", default="unset")
    var.set("caller")
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(var.get).result() == "caller"
    uninstall_thread_context_propagation()
    try:
        assert not is_thread_context_propagation_installed()
        assert not getattr(ThreadPoolExecutor.submit, "_honeyhive_context_propagation", False)
        with ThreadPoolExecutor(max_workers=1) as pool:
            assert pool.submit(var.get).result() == "unset"
    finally:
        install_thread_context_propagation()


def test_submit_keeps_its_signature_and_errors() -> None:
    install_thread_context_propagation()

    def fails(x: int, *, fn: str) -> None:
        raise ValueError(f"{x} {fn}")

    with ThreadPoolExecutor(max_workers=1) as pool:
        # A keyword literally named "fn" still reaches the callable.
        future = pool.submit(fails, 1, fn="f")
        with pytest.raises(ValueError, match="1 f"):
            future.result()


def test_plain_threads_are_independent(exporter: InMemorySpanExporter) -> None:
    @trace(event_name="job")
    def job(i: int) -> None:
        return None

    threads = [threading.Thread(target=job, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    jobs = _by_name(exporter)["job"]
    assert len(jobs) == 5
    assert all(parent_id(s) is None for s in jobs)  # type: ignore[arg-type]
    assert len({s.context.trace_id for s in jobs}) == 5  # type: ignore[attr-defined]


async def test_many_concurrent_tasks_never_mix(exporter: InMemorySpanExporter) -> None:
    n = 60

    @trace(event_name="step")
    async def step(task_id: int, i: int) -> int:
        await asyncio.sleep(0)
        return task_id

    @trace(event_name="stream")
    async def stream(task_id: int) -> AsyncIterator[int]:
        for i in range(2):
            await asyncio.sleep(0)
            yield await step(task_id, i)

    @trace(event_name="session", event_type="chain")
    async def session(task_id: int) -> int:
        total = 0
        for i in range(3):
            total += await step(task_id, i)
        async for value in stream(task_id):
            total += value
        await asyncio.gather(*(step(task_id, 10 + i) for i in range(2)))
        return total

    results = await asyncio.gather(*(session(t) for t in range(n)))
    assert results == [t * 5 for t in range(n)]

    spans = finished(exporter)
    by_id = {s.context.span_id: s for s in spans}
    roots = [s for s in spans if s.name == "session"]
    assert len(roots) == n
    assert len({s.context.trace_id for s in roots}) == n
    for span in spans:
        if span.name == "session":
            assert span.parent is None
            continue
        # Walk up to the root: every span's task_id matches its root's.
        root = span
        while root.parent is not None:
            root = by_id[root.parent.span_id]
        assert root.name == "session"
        assert attrs(span)["honeyhive_inputs.task_id"] == attrs(root)["honeyhive_inputs.task_id"]
        assert span.context.trace_id == root.context.trace_id
    assert len([s for s in spans if s.name == "step"]) == n * 7


async def test_run_in_executor_and_to_thread_nest(exporter: InMemorySpanExporter) -> None:
    @trace(event_name="blocking")
    def blocking() -> str:
        return "b"

    @trace(event_name="handler")
    async def handler() -> list[str]:
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(max_workers=2) as pool:
            a = await loop.run_in_executor(pool, blocking)
        b = await asyncio.to_thread(blocking)
        return [a, b]

    assert await handler() == ["b", "b"]
    spans = _by_name(exporter)
    root = spans["handler"][0]
    assert len(spans["blocking"]) == 2
    for span in spans["blocking"]:
        assert parent_id(span) == root.context.span_id  # type: ignore[arg-type, attr-defined]


def test_concurrent_threads_with_their_own_roots(exporter: InMemorySpanExporter) -> None:
    @trace(event_name="leaf")
    def leaf(owner: int) -> int:
        return owner

    @trace(event_name="root")
    def root(owner: int) -> int:
        with ThreadPoolExecutor(max_workers=2) as pool:
            return sum(pool.map(leaf, [owner] * 4))

    with ThreadPoolExecutor(max_workers=4) as outer:
        assert list(outer.map(root, range(8))) == [o * 4 for o in range(8)]
    spans = finished(exporter)
    roots = {s.context.span_id: s for s in spans if s.name == "root"}
    assert len(roots) == 8
    for span in spans:
        if span.name == "leaf":
            assert span.parent is not None
            owner_root = roots[span.parent.span_id]
            owner = attrs(span)["honeyhive_inputs.owner"]
            assert attrs(owner_root)["honeyhive_inputs.owner"] == owner


async def test_sessions_per_trace_never_mix_across_tasks(make_tracer: MakeTracer) -> None:
    _, exporter = make_tracer(session={"per": "trace"})

    @trace(event_name="leaf")
    async def leaf(owner: int) -> int:
        await asyncio.sleep(0)
        return owner

    @trace(event_name="request", event_type="chain")
    async def request(owner: int) -> int:
        parts = await asyncio.gather(leaf(owner), leaf(owner))
        with ThreadPoolExecutor(max_workers=1) as pool:
            await asyncio.get_running_loop().run_in_executor(pool, sync_leaf, owner)
        return sum(parts)

    @trace(event_name="sync_leaf")
    def sync_leaf(owner: int) -> int:
        return owner

    n = 30
    assert await asyncio.gather(*(request(i) for i in range(n))) == [2 * i for i in range(n)]
    spans = finished(exporter)
    session_of_root = {
        attrs(s)["honeyhive_inputs.owner"]: attrs(s)["honeyhive.session_id"]
        for s in spans
        if s.name == "request"
    }
    assert len(set(session_of_root.values())) == n
    for span in spans:
        a = attrs(span)
        assert a["honeyhive.session_id"] == session_of_root[a["honeyhive_inputs.owner"]]


def test_disabled_agent_patches_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HH_DISABLED", "true")
    uninstall_thread_context_propagation()
    try:

        @trace
        def f() -> int:
            return 1

        assert f() == 1
        assert not is_thread_context_propagation_installed()
        assert not getattr(ThreadPoolExecutor.submit, "_honeyhive_context_propagation", False)
    finally:
        install_thread_context_propagation()


def test_first_traced_call_installs_propagation(exporter: InMemorySpanExporter) -> None:
    uninstall_thread_context_propagation()

    @trace(event_name="child")
    def child() -> None:
        return None

    @trace(event_name="parent")
    def parent() -> None:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(child).result()

    try:
        parent()
        assert is_thread_context_propagation_installed()
    finally:
        install_thread_context_propagation()
    spans = {s.name: s for s in finished(exporter)}
    assert parent_id(spans["child"]) == spans["parent"].context.span_id
