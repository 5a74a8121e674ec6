"""Content rules, tracer routing, and the agent never getting in the user's way."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Generator, Iterator
from typing import Any

import pytest

from honeyhive_agent import _log, trace
from honeyhive_agent.tracer import registry
from tests.decorators._helpers import attrs, finished, only_span
from tests.decorators.conftest import MakeTracer


@pytest.fixture(autouse=True)
def _fresh_warn_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # warn_once is process-wide; each test here checks its own single warning.
    monkeypatch.setattr(_log, "_once_keys", set())


def test_capture_content_off_drops_inputs_and_outputs(make_tracer: MakeTracer) -> None:
    _, exporter = make_tracer(capture_content=False)

    @trace(config={"model": "m"}, metadata={"team": "search"})
    def secret(prompt: str) -> str:
        return "answer"

    @trace
    def gen(prompt: str) -> Iterator[str]:
        yield "chunk"

    assert secret("my prompt") == "answer"
    assert list(gen("p")) == ["chunk"]
    first, second = finished(exporter)
    a = attrs(first)
    assert not [k for k in a if k.startswith(("honeyhive_inputs", "honeyhive_outputs"))]
    assert a["honeyhive_config.model"] == "m"
    assert a["honeyhive_metadata.team"] == "search"
    b = attrs(second)
    assert b["honeyhive_outputs.count"] == 1
    assert not [k for k in b if k.startswith(("honeyhive_inputs", "honeyhive_outputs.result"))]


def test_redact_applies_to_inputs_outputs_and_errors(make_tracer: MakeTracer) -> None:
    _, exporter = make_tracer(redact=[r"sk-[A-Za-z0-9]+"])

    @trace
    def call(key: str, payload: dict[str, Any]) -> str:
        return f"used {key}"

    @trace
    def fails(key: str) -> None:
        raise PermissionError(f"bad key {key}")

    call("sk-abc123", {"nested": ["x sk-zzz y"]})
    with pytest.raises(PermissionError, match="sk-live9"):
        fails("sk-live9")
    ok, err = finished(exporter)
    a = attrs(ok)
    assert a["honeyhive_inputs.key"] == "[REDACTED]"
    assert a["honeyhive_inputs.payload.nested.0"] == "x [REDACTED] y"
    assert a["honeyhive_outputs.result"] == "used [REDACTED]"
    e = attrs(err)
    assert e["honeyhive_error"] == "bad key [REDACTED]"
    assert e["honeyhive_inputs.key"] == "[REDACTED]"
    assert err.events[0].attributes is not None
    assert err.events[0].attributes["exception.message"] == "bad key [REDACTED]"
    assert "sk-live9" not in (err.status.description or "")


def test_routing_to_a_named_tracer(make_tracer: MakeTracer) -> None:
    default, default_spans = make_tracer()
    research, research_spans = make_tracer(name="research", capture_content=False)

    @trace(tracer="research")
    def routed(q: str) -> str:
        return q

    @trace
    def unrouted(q: str) -> str:
        return q

    @trace(tracer=default)
    def by_instance(q: str) -> str:
        return routed(q)

    routed("a")
    unrouted("b")
    by_instance("c")
    research_names = [s.name for s in finished(research_spans)]
    default_names = [s.name for s in finished(default_spans)]
    assert research_names == [routed.__qualname__, routed.__qualname__]
    assert default_names == [unrouted.__qualname__, by_instance.__qualname__]
    # Each tracer's own content rules apply.
    assert "honeyhive_inputs.q" not in attrs(finished(research_spans)[0])
    assert attrs(finished(default_spans)[0])["honeyhive_inputs.q"] == "b"
    # Cross-tracer parentage is kept: the research span is a child of by_instance.
    nested = finished(research_spans)[1]
    assert nested.parent is not None
    assert nested.parent.span_id == finished(default_spans)[1].context.span_id
    assert research.session_id != default.session_id


def test_unknown_tracer_name_falls_back_to_default(make_tracer: MakeTracer) -> None:
    _, exporter = make_tracer()

    @trace(tracer="nope")
    def f() -> int:
        return 1

    assert f() == 1
    assert len(finished(exporter)) == 1


def test_tracer_created_from_config_on_first_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HH_EXPORTERS", "none")

    @trace
    def f() -> int:
        return 5

    assert registry.get("default") is None
    assert f() == 5
    assert registry.get("default") is not None


def _kinds() -> list[Any]:
    def sync(x: int) -> int:
        if x < 0:
            raise ValueError("neg")
        return x + 1

    async def coro(x: int) -> int:
        if x < 0:
            raise ValueError("neg")
        return x + 1

    def gen(x: int) -> Iterator[int]:
        if x < 0:
            raise ValueError("neg")
        yield x + 1

    async def agen(x: int) -> AsyncIterator[int]:
        if x < 0:
            raise ValueError("neg")
        yield x + 1

    return [sync, coro, gen, agen]


def _run(func: Any, x: int) -> Any:
    async def collect() -> Any:
        result = func(x)
        if hasattr(result, "__aiter__"):
            return [v async for v in result]
        return await result

    result = asyncio.run(collect()) if not _sync_kind(func) else func(x)
    return list(result) if hasattr(result, "__next__") else result


def _sync_kind(func: Any) -> bool:
    return not (inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func))


@pytest.mark.parametrize("kind", range(4))
def test_disabled_agent_runs_function_untouched(
    monkeypatch: pytest.MonkeyPatch, kind: int
) -> None:
    monkeypatch.setenv("HH_DISABLED", "true")
    func = _kinds()[kind]
    traced = trace(func)
    assert _run(traced, 1) == _run(func, 1)
    with pytest.raises(ValueError, match="neg"):
        _run(traced, -1)
    assert registry.all_tracers() == []


def test_disabled_agent_returns_the_original_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HH_DISABLED", "1")

    def gen() -> Generator[int, None, None]:
        yield 1

    g = trace(gen)()
    assert inspect.getgeneratorstate(g) == "GEN_CREATED"
    assert g.gi_code is gen.__code__  # type: ignore[attr-defined]


class _BrokenSerializer:
    capture_content = True

    def flatten_into(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("serializer exploded")

    def flatten(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("serializer exploded")

    def text(self, value: str) -> str:
        raise RuntimeError("serializer exploded")


@pytest.mark.parametrize("kind", range(4))
def test_broken_serializer_leaves_function_unaffected(
    make_tracer: MakeTracer, kind: int, caplog: pytest.LogCaptureFixture
) -> None:
    tracer, _ = make_tracer()
    tracer.serializer = _BrokenSerializer()  # type: ignore[assignment]
    func = _kinds()[kind]
    traced = trace(func)
    with caplog.at_level(logging.DEBUG, logger="honeyhive_agent"):
        _run(traced, 1)
        assert _run(traced, 1) == _run(func, 1)
        with pytest.raises(ValueError, match="neg") as info:
            _run(traced, -1)
    assert str(info.value) == "neg"
    warnings = [r for r in caplog.records if "serializer exploded" in r.getMessage()]
    assert len(warnings) == 1


def test_broken_span_api_leaves_function_unaffected(
    make_tracer: MakeTracer, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracer, exporter = make_tracer()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("span api down")

    monkeypatch.setattr(tracer.get_otel_tracer(), "start_span", broken)

    @trace
    def f(x: int) -> int:
        return x * 3

    assert f(2) == 6
    assert finished(exporter) == []


def test_broken_registry_leaves_function_unaffected(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(name: str = "default") -> None:
        raise RuntimeError("registry down")

    monkeypatch.setattr(registry, "get_or_create", boom)

    @trace
    def f(x: int) -> int:
        return x - 1

    assert f(1) == 0


def test_output_serialization_failure_still_returns_result(make_tracer: MakeTracer) -> None:
    _, exporter = make_tracer()

    class Ugly:
        def __repr__(self) -> str:
            raise RuntimeError("repr exploded")

        __str__ = __repr__

    @trace
    def f() -> Ugly:
        return ugly

    ugly = Ugly()
    assert f() is ugly
    span = only_span(exporter)
    assert span.end_time is not None


def test_agent_writes_nothing_to_stdout(
    make_tracer: MakeTracer, capsys: pytest.CaptureFixture[str]
) -> None:
    tracer, _ = make_tracer()
    tracer.serializer = _BrokenSerializer()  # type: ignore[assignment]

    @trace
    def f() -> int:
        return 1

    f()
    assert capsys.readouterr().out == ""


def test_non_callable_is_returned_unchanged() -> None:
    value = 42
    assert trace(value) == 42
