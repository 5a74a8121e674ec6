"""``honeyhive-agent doctor`` against real (and absent) backends."""

from __future__ import annotations

from pathlib import Path

from tests.launcher.conftest import agent_env, run, write
from tests.support.fake_honeyhive import FakeHoneyHive
from tests.support.otlp_receiver import OtlpReceiver, closed_url

SECRET = "hh-secret-key-abcdef123456"


def test_all_good_with_local_store(tmp_path: Path) -> None:
    done = run(["honeyhive-agent", "doctor"], agent_env(), cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    out = done.stdout
    assert "file: none found" in out
    assert "local" in out and "writable" in out
    assert "openai" in out and "anthropic" in out
    assert "Result: all good" in out
    assert not (tmp_path / ".honeyhive").exists()  # checking creates nothing


def test_reachable_backends_and_masked_secrets(tmp_path: Path, receiver: OtlpReceiver) -> None:
    with FakeHoneyHive() as hh:
        write(tmp_path / "honeyhive.yaml", f"""
            project: doc
            exporters: [honeyhive, otlp]
            otlp:
              traces_endpoint: {receiver.traces_url}
              headers: {{x-token: "{SECRET}"}}
        """)
        env = agent_env({"HH_API_KEY": SECRET, "HH_API_URL": hh.url})
        done = run(["python", "-m", "honeyhive_agent", "doctor"], env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert "honeyhive.yaml" in done.stdout
    assert done.stdout.count("answers (HTTP") == 2
    assert SECRET not in done.stdout + done.stderr
    assert "hh-***" in done.stdout
    # The reachability probe exported nothing.
    assert receiver.spans == []


def test_a_refused_api_key_exits_1(tmp_path: Path) -> None:
    with FakeHoneyHive(api_key="the-right-key") as hh:
        env = agent_env({"HH_API_KEY": SECRET, "HH_API_URL": hh.url})
        done = run(["honeyhive-agent", "doctor", "--timeout", "2"], env, cwd=tmp_path)
        accepted = agent_env({"HH_API_KEY": "the-right-key", "HH_API_URL": hh.url})
        good = run(["honeyhive-agent", "doctor", "--timeout", "2"], accepted, cwd=tmp_path)
    assert done.returncode == 1, done.stdout
    assert "HTTP 401" in done.stdout
    assert "the api_key (HH_API_KEY) REFUSED" in done.stdout
    assert SECRET not in done.stdout + done.stderr
    assert good.returncode == 0, good.stdout


def test_otlp_headers_are_sent_and_a_wrong_path_is_reported(tmp_path: Path) -> None:
    with FakeHoneyHive(api_key="tok") as hh:
        # The collector wants the header the config gives; and a URL that is not
        # an OTLP traces endpoint is a problem, not "reachable".
        write(tmp_path / "honeyhive.yaml", f"""
            exporters: [otlp]
            otlp:
              traces_endpoint: {hh.traces_url}
              headers: {{authorization: "Bearer tok"}}
        """)
        ok = run(["honeyhive-agent", "doctor", "--timeout", "2"], agent_env({}), cwd=tmp_path)
        write(tmp_path / "honeyhive.yaml", f"""
            exporters: [otlp]
            otlp:
              traces_endpoint: {hh.url}/v1/nope
        """)
        wrong = run(["honeyhive-agent", "doctor", "--timeout", "2"], agent_env({}), cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout
    assert wrong.returncode == 1, wrong.stdout
    assert "NOT an OTLP traces endpoint" in wrong.stdout


def test_unreachable_backend_exits_1(tmp_path: Path) -> None:
    env = agent_env({"HH_EXPORTERS": "otlp", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": closed_url()})
    done = run(["honeyhive-agent", "doctor", "--timeout", "1"], env, cwd=tmp_path)
    assert done.returncode == 1
    assert "UNREACHABLE" in done.stdout
    assert "1 problem(s)" in done.stdout


def test_otlp_without_endpoint_checks_the_default_the_exporter_uses(tmp_path: Path) -> None:
    # No endpoint: spans go to http://localhost:4318/v1/traces (the OpenTelemetry
    # default), so that is what doctor checks, not "not configured".
    env = agent_env({"HH_EXPORTERS": "otlp"})
    done = run(["honeyhive-agent", "doctor", "--timeout", "1"], env, cwd=tmp_path)
    assert "http://localhost:4318/v1/traces" in done.stdout, done.stdout
    assert "the OpenTelemetry default" in done.stdout
    assert "NOT CONFIGURED" not in done.stdout


def test_config_error_exits_1(tmp_path: Path) -> None:
    write(tmp_path / "honeyhive.yaml", "projekt: typo\n")
    done = run(["honeyhive-agent", "doctor"], agent_env(), cwd=tmp_path)
    assert done.returncode == 1
    assert "honeyhive.yaml:1" in done.stdout and "projekt" in done.stdout


def test_instrumentor_switches_and_peer_are_reported(tmp_path: Path) -> None:
    env = agent_env({"HH_INSTRUMENTORS_DISABLED": "anthropic"})
    done = run(["honeyhive-agent", "doctor"], env, cwd=tmp_path)
    lines = {line.split()[1]: line for line in done.stdout.splitlines()
             if line.strip().startswith(("openai ", "anthropic "))}
    assert "disabled" in lines["anthropic"]
    assert "enabled" in lines["openai"] and "supported" in lines["openai"]
    assert "opentelemetry-instrumentation-openai-v2" in lines["openai"]
    # Versions come from package metadata: no SDK is imported to find them.
    probe = ("import io, sys; from honeyhive_agent import doctor; doctor.run(io.StringIO()); "
             "print([m for m in ('openai', 'anthropic') if m in sys.modules])")
    assert run(["python", "-c", probe], env, cwd=tmp_path).stdout == "[]\n"


def test_cli_help_and_unknown_command() -> None:
    helped = run(["honeyhive-agent", "--help"])
    assert helped.returncode == 0 and "doctor" in helped.stdout
    unknown = run(["honeyhive-agent", "frobnicate"])
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert run(["honeyhive-run", "--version"]).stdout.startswith("honeyhive-run")
