"""LLMInstrumentor: lazy post-import patching, guards, idempotence, unpatching."""

from __future__ import annotations

import importlib
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import context as otel_context

from honeyhive_agent.serializer import Serializer
from instrumentors._base import LLMInstrumentor, Patch, Wrapper
from instrumentors._span import CallSpan, base_attributes

from .conftest import SpanSink

_names = itertools.count()

LIB_SOURCE = """
class Chat:
    def create(self, x):
        if x < 0:
            raise ValueError("negative")
        return x * 2

class Other:
    def create(self, x):
        return x
"""


def traced(inst: LLMInstrumentor) -> Wrapper:
    def wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        if inst.should_skip_call():
            return wrapped(*args, **kwargs)
        attrs = base_attributes(operation="chat", provider="toy", event_name="toy.chat", model="m")
        call = CallSpan(inst.tracer, "chat m", attrs, inst.serializer)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            call.fail(exc)
            raise
        call.finish({"toy.result": result})
        return result

    return wrapper


def broken(inst: LLMInstrumentor) -> Wrapper:
    raise RuntimeError("factory exploded")


@pytest.fixture
def lib(tmp_path: Path) -> Iterator[str]:
    """A fresh, not yet imported module name on sys.path."""
    name = f"toy_llm_lib_{next(_names)}"
    (tmp_path / f"{name}.py").write_text(LIB_SOURCE)
    sys.path.insert(0, str(tmp_path))
    yield name
    sys.path.remove(str(tmp_path))
    sys.modules.pop(name, None)


def make_instrumentor(lib: str, *extra: Patch, factory: Any = traced) -> LLMInstrumentor:
    table = (Patch(lib, "Chat.create", factory), Patch(lib, "Chat.gone", traced), *extra)

    class ToyInstrumentor(LLMInstrumentor):
        name = "toy"
        library = lib

        def patches(self) -> tuple[Patch, ...]:
            return table

    return ToyInstrumentor()


def test_patches_on_import_not_before(lib: str, sink: SpanSink) -> None:
    inst = make_instrumentor(lib)
    inst.instrument(tracer_provider=sink.provider)
    assert lib not in sys.modules  # instrumenting imported nothing
    assert inst.patched_targets == []
    module = importlib.import_module(lib)
    assert inst.patched_targets == [f"{lib}:Chat.create"]  # Chat.gone skipped quietly
    assert module.Chat().create(2) == 4
    span = sink.only()
    assert span.name == "chat m"
    assert SpanSink.attrs(span)["toy.result"] == 4
    inst.uninstrument()


def test_already_imported_is_patched_at_once(lib: str, sink: SpanSink) -> None:
    module = importlib.import_module(lib)
    inst = make_instrumentor(lib)
    inst.instrument(tracer_provider=sink.provider)
    assert module.Chat().create(1) == 2
    assert len(sink.spans()) == 1
    inst.uninstrument()


def test_idempotent_and_reversible(lib: str, sink: SpanSink) -> None:
    module = importlib.import_module(lib)
    original = module.Chat.__dict__["create"]
    inst = make_instrumentor(lib)
    inst.instrument(tracer_provider=sink.provider)
    inst.instrument(tracer_provider=sink.provider)
    module.Chat().create(1)
    assert len(sink.spans()) == 1  # wrapped once, not twice
    inst.uninstrument()
    inst.uninstrument()
    assert module.Chat.__dict__["create"] is original
    assert inst.patched_targets == []
    module.Chat().create(1)
    assert len(sink.spans()) == 1
    inst.instrument(tracer_provider=sink.provider)
    module.Chat().create(1)
    assert len(sink.spans()) == 2
    inst.uninstrument()


def test_uninstrument_disarms_pending_hook(lib: str, sink: SpanSink) -> None:
    inst = make_instrumentor(lib)
    inst.instrument(tracer_provider=sink.provider)
    inst.uninstrument()
    module = importlib.import_module(lib)
    assert "__wrapped__" not in dir(module.Chat.__dict__["create"])
    module.Chat().create(1)
    assert sink.spans() == []


def test_failing_patch_leaves_library_unpatched_and_import_working(
    lib: str, sink: SpanSink, capfd: pytest.CaptureFixture[str]
) -> None:
    inst = make_instrumentor(lib, Patch(lib, "Other.create", broken))
    inst.instrument(tracer_provider=sink.provider)
    module = importlib.import_module(lib)
    assert module.Chat().create(3) == 6
    assert sink.spans() == []
    assert inst.patched_targets == []  # the patch that did work was undone too
    out, err = capfd.readouterr()
    assert out == ""
    assert err.count("toy instrumentation disabled") == 1
    inst.uninstrument()


def test_errors_are_recorded_and_reraised_unchanged(lib: str, sink: SpanSink) -> None:
    module = importlib.import_module(lib)
    inst = make_instrumentor(lib)
    inst.instrument(tracer_provider=sink.provider)
    with pytest.raises(ValueError, match="negative"):
        module.Chat().create(-1)
    span = sink.only()
    assert span.status.status_code.name == "ERROR"
    assert SpanSink.attrs(span)["error.type"] == "ValueError"
    assert SpanSink.attrs(span)["honeyhive_error"] == "ValueError: negative"
    inst.uninstrument()


def test_suppression_and_calls_disabled_skip_spans(lib: str, sink: SpanSink) -> None:
    module = importlib.import_module(lib)
    inst = make_instrumentor(lib)
    inst.instrument(tracer_provider=sink.provider)
    token = otel_context.attach(
        otel_context.set_value(otel_context._SUPPRESS_INSTRUMENTATION_KEY, True)
    )
    try:
        assert module.Chat().create(1) == 2
    finally:
        otel_context.detach(token)
    inst.calls_disabled = True
    try:
        assert module.Chat().create(1) == 2
    finally:
        inst.calls_disabled = False
    assert sink.spans() == []
    module.Chat().create(1)
    assert len(sink.spans()) == 1
    inst.uninstrument()


class _FakeHH:
    """Duck-typed HoneyHiveTracer: what the instrumentors use of it."""

    def __init__(self, sink: SpanSink) -> None:
        self.sink = sink
        self.serializer = Serializer(redact=[r"secret"])
        self.scopes: list[str] = []

    def get_otel_tracer(self, scope: str = "honeyhive_agent", version: str | None = None) -> Any:
        self.scopes.append(scope)
        return self.sink.provider.get_tracer(scope, version)


def test_hh_tracer_callable_is_resolved_only_when_patching(lib: str, sink: SpanSink) -> None:
    calls: list[int] = []
    hh = _FakeHH(sink)

    def resolve() -> _FakeHH:
        calls.append(1)
        return hh

    inst = make_instrumentor(lib)
    inst.instrument(hh_tracer=resolve)
    assert calls == []
    module = importlib.import_module(lib)
    assert calls == [1]
    module.Chat().create(1)
    assert hh.scopes == ["honeyhive_agent.instrumentors.toy"]
    assert inst.serializer is hh.serializer
    assert len(sink.spans()) == 1
    inst.uninstrument()


def test_hh_tracer_resolving_to_none_leaves_library_alone(lib: str) -> None:
    inst = make_instrumentor(lib)
    inst.instrument(hh_tracer=lambda: None)
    module = importlib.import_module(lib)
    assert inst.patched_targets == []
    assert module.Chat().create(1) == 2
    inst.uninstrument()
