"""Several tracers: inheritance, precedence per tracer, routing, explicit arguments."""

from __future__ import annotations

import dataclasses

import pytest

from honeyhive_agent.config.loader import load_config, tracer_config
from honeyhive_agent.config.model import BatchConfig, SessionConfig, TracerConfig
from honeyhive_agent.errors import ConfigurationError
from tests.config.conftest import WriteYaml

MULTI = """
project: shared
source: staging
capture_content: false
exporters: [otlp]
otlp:
  endpoint: http://127.0.0.1:4318
  headers: {x-top: t}
batch:
  max_queue_size: 1000
  schedule_delay_ms: 200
session:
  per: trace
tracers:
  research:
    project: research-lab
    exporters: [console]
    batch:
      schedule_delay_ms: 20
    session:
      name: lab
  default:
    source: prod
  quiet: {}
instrumentors:
  anthropic:
    tracer: research
  openai:
    enabled: false
    on_conflict: peer
"""


def test_tracers_inherit_top_level_and_merge_sections(write_yaml: WriteYaml) -> None:
    config = load_config(write_yaml(MULTI), env={})
    assert list(config.tracers) == ["research", "default", "quiet"]
    research = config.tracers["research"]
    assert research.name == "research"
    assert research.project == "research-lab"
    assert research.source == "staging"
    assert research.capture_content is False
    assert research.exporters == ("console",)
    assert research.batch == BatchConfig(max_queue_size=1000, schedule_delay_ms=20)
    assert research.session == SessionConfig(name="lab", per="trace")
    assert research.otlp.endpoint == "http://127.0.0.1:4318"
    default = config.tracers["default"]
    assert (default.project, default.source) == ("shared", "prod")
    assert default.batch.schedule_delay_ms == 200
    quiet = config.tracers["quiet"]
    assert dataclasses.replace(quiet, name="default", source="prod") == default


def test_default_tracer_is_named_default_when_defined(write_yaml: WriteYaml) -> None:
    config = load_config(write_yaml(MULTI), env={})
    assert config.default_tracer.name == "default"


def test_first_tracer_is_default_otherwise(write_yaml: WriteYaml) -> None:
    path = write_yaml("tracers:\n  zeta: {}\n  alpha: {}\n")
    config = load_config(path, env={})
    assert list(config.tracers) == ["zeta", "alpha"]
    assert config.default_tracer.name == "zeta"
    # Unrouted instrumentors go to the default tracer, which exists.
    assert config.instrumentor("openai").tracer == "zeta"


def test_empty_tracers_mapping_means_single_default(write_yaml: WriteYaml) -> None:
    config = load_config(write_yaml("project: p\ntracers: {}\n"), env={})
    assert list(config.tracers) == ["default"]
    assert config.default_tracer.project == "p"


def test_env_overrides_inherited_but_not_tracer_specific(write_yaml: WriteYaml) -> None:
    env = {
        "HH_PROJECT": "env-project",
        "HH_SOURCE": "env-source",
        "HH_EXPORTERS": "local",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:5555",
        "HH_SESSION_NAME": "env-session",
    }
    config = load_config(write_yaml(MULTI), env=env)
    research, default, quiet = (config.tracers[n] for n in ("research", "default", "quiet"))
    assert research.project == "research-lab"  # tracer-specific wins over env
    assert research.exporters == ("console",)
    assert research.session.name == "lab"
    assert research.source == "env-source"  # inherited -> env wins
    assert default.project == "env-project"
    assert default.source == "prod"
    assert quiet.project == "env-project"
    assert quiet.source == "env-source"
    assert quiet.exporters == ("local",)
    assert quiet.session == SessionConfig(name="env-session", per="trace")
    assert all(t.otlp.endpoint == "http://127.0.0.1:5555" for t in (research, default, quiet))


def test_instrumentor_routing(write_yaml: WriteYaml) -> None:
    config = load_config(write_yaml(MULTI), env={})
    anthropic = config.instrumentor("anthropic")
    assert (anthropic.enabled, anthropic.tracer, anthropic.on_conflict) == (
        True, "research", "honeyhive",
    )
    openai = config.instrumentor("openai")
    assert (openai.enabled, openai.tracer, openai.on_conflict) == (False, "default", "peer")


def test_routing_to_default_without_tracers_section(write_yaml: WriteYaml) -> None:
    path = write_yaml("instrumentors:\n  anthropic: {tracer: default}\n")
    assert load_config(path, env={}).instrumentor("anthropic").tracer == "default"


def test_overrides_beat_everything_and_can_target_a_tracer(write_yaml: WriteYaml) -> None:
    overrides = {"project": "arg", "tracers": {"quiet": {"source": "arg-src"}}}
    config = load_config(write_yaml(MULTI), env={"HH_SOURCE": "env"}, overrides=overrides)
    assert {t.project for t in config.tracers.values()} == {"arg"}
    assert config.tracers["quiet"].source == "arg-src"
    assert config.tracers["research"].source == "env"


def test_overrides_may_add_a_tracer_and_route_to_it() -> None:
    overrides = {
        "tracers": {"default": {}, "extra": {"exporters": "console"}},
        "instrumentors": {"openai": {"tracer": "extra"}},
    }
    config = load_config(env={}, overrides=overrides)
    assert list(config.tracers) == ["default", "extra"]
    assert config.instrumentor("openai").tracer == "extra"


def test_config_objects_are_frozen(write_yaml: WriteYaml) -> None:
    config = load_config(write_yaml(MULTI), env={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.default_tracer.project = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.tracers["x"] = TracerConfig()  # type: ignore[index]
    with pytest.raises(TypeError):
        config.default_tracer.otlp.headers["x"] = "y"  # type: ignore[index]


def test_tracer_config_applies_arguments_over_base() -> None:
    base = TracerConfig(name="main", project="p", batch=BatchConfig(max_queue_size=100))
    t = tracer_config(
        base,
        api_key="hh-0123456789abcdef",
        exporters=["otlp", "console"],
        session_name="s1",
        batch={"schedule_delay_ms": 5},
        otlp={"endpoint": "http://127.0.0.1:4318"},
    )
    assert t.name == "main"
    assert t.project == "p"
    assert t.api_key == "hh-0123456789abcdef"
    assert t.exporters == ("otlp", "console")
    assert t.session.name == "s1"
    assert t.batch == BatchConfig(
        max_queue_size=100, schedule_delay_ms=5, max_export_batch_size=100
    )
    assert t.otlp.resolved_url() == "http://127.0.0.1:4318/v1/traces"
    assert base.project == "p" and base.exporters == ()  # base untouched


def test_tracer_config_accepts_config_objects_and_ignores_none() -> None:
    t = tracer_config(
        TracerConfig(project="keep"),
        project=None,
        session=SessionConfig(name="obj", per="trace"),
        batch=BatchConfig(max_queue_size=64, max_export_batch_size=32),
        name="named",
    )
    assert (t.name, t.project) == ("named", "keep")
    assert t.session == SessionConfig(name="obj", per="trace")
    assert (t.batch.max_queue_size, t.batch.max_export_batch_size) == (64, 32)


def test_tracer_config_without_base_uses_sources(
    write_yaml: WriteYaml, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_yaml(MULTI)
    monkeypatch.setenv("HH_API_KEY", "hh-env-0123456789")
    t = tracer_config(project="explicit")
    assert (t.name, t.project, t.source) == ("default", "explicit", "prod")
    assert t.api_key == "hh-env-0123456789"
    r = tracer_config(name="research")
    assert (r.name, r.project) == ("research", "research-lab")
    new = tracer_config(name="brand-new")
    assert (new.name, new.source) == ("brand-new", "prod")


@pytest.mark.parametrize(
    ("kwargs", "key", "expected"),
    [
        ({"projcet": "x"}, "projcet", "one of api_key"),
        ({"capture_content": "yes"}, "capture_content", "true or false"),
        ({"exporters": ["jaeger"]}, "exporters", "a list of exporters"),
        ({"batch": {"max_queue_size": 0}}, "batch.max_queue_size", "a positive integer"),
        ({"session": {"per": "request"}}, "session.per", "one of 'process', 'trace'"),
        ({"tracers": {}}, "tracers", "one of api_key"),
        ({"disabled": True}, "disabled", "one of api_key"),
        ({"batch": {"max_export_batch_size": 4096}}, "batch.max_export_batch_size", "<="),
        ({"name": ""}, "name", "a non-empty string"),
    ],
)
def test_tracer_config_errors(kwargs: dict[str, object], key: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        tracer_config(TracerConfig(), **kwargs)
    err = info.value
    assert (err.key, err.file, err.line) == (key, None, None)
    assert err.expected is not None and expected in err.expected
