"""The tracer registry: lazy creation from the configuration, routing, shutdown."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import honeyhive_agent
from honeyhive_agent import tracer as api
from honeyhive_agent.config.loader import load_config
from honeyhive_agent.errors import ConfigurationError
from honeyhive_agent.tracer import HoneyHiveTracer, registry
from tests.tracer.conftest import AgentLog


def test_package_exports_the_tracer_api() -> None:
    for name in ("HoneyHiveTracer", "init", "get_tracer", "flush", "shutdown"):
        assert getattr(honeyhive_agent, name) is getattr(api, name)


def test_get_or_create_builds_the_default_tracer_once() -> None:
    assert registry.get() is None
    tracer = registry.get_or_create()
    assert isinstance(tracer, HoneyHiveTracer)
    assert tracer.name == "default"
    assert registry.get_or_create() is tracer
    assert registry.get("default") is tracer
    assert api.get_tracer() is tracer


def test_get_or_create_is_thread_safe() -> None:
    barrier = threading.Barrier(16)
    seen: list[HoneyHiveTracer | None] = []

    def worker() -> None:
        barrier.wait()
        seen.append(registry.get_or_create())

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 16
    assert seen[0] is not None
    assert all(t is seen[0] for t in seen)
    assert len(registry.all_tracers()) == 1


def test_named_tracers_come_from_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "honeyhive.yaml").write_text(
        "project: base\n"
        "exporters: [none]\n"
        "tracers:\n"
        "  default: {}\n"
        "  research:\n"
        "    project: research-proj\n"
    )
    research = registry.get_or_create("research")
    default = registry.get_or_create("default")
    assert research is not None and default is not None
    assert research.config.project == "research-proj"
    assert default.config.project == "base"
    assert research.provider is not default.provider
    # An unknown name falls back to the default tracer.
    assert registry.get_or_create("nope") is default


def test_disabled_agent_gives_no_tracer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HH_DISABLED", "true")
    assert registry.get_or_create() is None
    assert registry.all_tracers() == []
    # An explicit init() still returns a working (inert, unregistered) tracer.
    inert = api.init()
    assert isinstance(inert, HoneyHiveTracer)
    assert inert.config.effective_exporters == ()
    with inert.get_otel_tracer().start_as_current_span("s"):
        pass
    assert registry.get() is None


def test_invalid_config_warns_once_and_gives_none(
    tmp_path: Path, agent_log: AgentLog
) -> None:
    (tmp_path / "honeyhive.yaml").write_text("projcet: typo\n")
    assert registry.get_or_create() is None
    assert registry.get_or_create("other") is None
    warnings = agent_log.warnings()
    assert len(warnings) == 1, warnings
    assert "projcet" in warnings[0]
    assert "honeyhive.yaml" in warnings[0]


def test_init_builds_and_registers_every_tracer(tmp_path: Path) -> None:
    (tmp_path / "honeyhive.yaml").write_text(
        "exporters: [none]\ntracers:\n  default: {}\n  b: {project: pb}\n"
    )
    built = registry.init(load_config())
    assert set(built) == {"default", "b"}
    assert registry.get("b") is built["b"]
    assert built["b"].config.project == "pb"


def test_module_level_init_applies_overrides() -> None:
    tracer = api.init(project="from-init", exporters=["none"])
    assert tracer.config.project == "from-init"
    assert registry.get() is tracer
    assert api.get_tracer() is tracer
    again = api.init(project="second", exporters=["none"])
    assert registry.get() is again
    assert tracer in registry.all_tracers()  # still flushed at exit


def test_init_raises_on_invalid_arguments() -> None:
    with pytest.raises(ConfigurationError):
        api.init(exporters=["nonsense"])


def test_flush_and_shutdown_all() -> None:
    a = HoneyHiveTracer(name="a", exporters=["none"])
    b = HoneyHiveTracer(name="b", exporters=["none"])
    assert api.flush(1000)
    api.shutdown(1000)
    assert a.is_shutdown and b.is_shutdown


def test_reset_forgets_everything() -> None:
    tracer = HoneyHiveTracer(exporters=["none"])
    registry.reset()
    assert tracer.is_shutdown
    assert registry.get() is None
    assert registry.all_tracers() == []
