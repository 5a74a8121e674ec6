"""``honeyhive-run`` end to end: the program behaves exactly as without the agent.

Each test runs the same command bare and under the agent and compares stdout
and exit code; stderr is checked where the agent must (or must not) speak.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.launcher.conftest import (
    TRACED_APP,
    agent_env,
    agent_lines,
    run,
    run_both,
    write,
)
from tests.support.otlp_receiver import OtlpReceiver, closed_url


def test_decorated_app_spans_reach_otlp(
    tmp_path: Path, receiver: OtlpReceiver, otlp_env: dict[str, str]
) -> None:
    write(tmp_path / "app.py", TRACED_APP)
    _bare, traced = run_both(["python", "app.py", "3", "x y"], otlp_env, between=receiver.clear)
    assert traced.returncode == 3
    assert traced.stdout == "result 42\nargs ['3', 'x y']\n"
    assert traced.stderr == ""
    spans = receiver.wait_for_spans(1)
    assert [s["name"] for s in spans] == ["double"]
    attrs = spans[0]["attributes"]
    assert attrs["honeyhive.session_name"] == "app.py"
    assert attrs["honeyhive_outputs.result"] == 42


def test_local_store_is_the_default(tmp_path: Path) -> None:
    write(tmp_path / "app.py", TRACED_APP)
    run_both(["python", "app.py"], agent_env(), cwd=tmp_path)
    shown = run(["honeyhive-agent", "sessions"], cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count("app.py") == 2  # the bare run used @trace as well
    tree = run(["honeyhive-agent", "show", "--last"], cwd=tmp_path)
    assert "double" in tree.stdout


def test_launcher_options_reach_the_app(tmp_path: Path, receiver: OtlpReceiver) -> None:
    write(tmp_path / "app.py", TRACED_APP)
    env = agent_env({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.traces_url})
    done = run(["honeyhive-run", "--project", "proj", "--session-name", "nightly",
                "--exporter", "otlp", "--", "python", "app.py"], env)
    assert done.returncode == 0, done.stderr
    attrs = receiver.wait_for_spans(1)[0]["attributes"]
    assert attrs["honeyhive.project"] == "proj"
    assert attrs["honeyhive.session_name"] == "nightly"
    assert not (tmp_path / ".honeyhive").exists()


def test_exec_keeps_pid_stdin_and_signals(tmp_path: Path) -> None:
    pid_app = "import os, sys; print(os.getpid() == int(sys.argv[1]) or os.getpid())"
    # `sh -c 'exec ...'` gives the pid the program must keep: the shell's own.
    for launcher in ("", "honeyhive-run "):
        done = run(["sh", "-c", f'exec {launcher}python -c "{pid_app}" $$'])
        assert done.stdout == "True\n", done.stderr
    run_both(["python", "-c", "import sys; print(sys.stdin.read().upper())"], input="hello")
    _bare, traced = run_both(
        ["python", "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"])
    assert traced.returncode == -signal.SIGTERM


def test_module_and_console_script_forms(tmp_path: Path) -> None:
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "__main__.py", "import sys; print('pkg', sys.argv[1:])\n")
    run_both(["python", "-m", "pkg", "a"], cwd=tmp_path)
    run_both(["python", "-m", "json.tool", "--help"])
    for form in (["honeyhive-agent", "run"], ["python", "-m", "honeyhive_agent", "run"]):
        _bare, traced = run_both(["python", "-m", "pkg", "b"], cwd=tmp_path, launcher=form)
        assert traced.stdout == "pkg ['b']\n"


def test_not_found_and_not_executable(tmp_path: Path) -> None:
    missing = run(["honeyhive-run", "no-such-command-hh"])
    assert missing.returncode == 127
    assert missing.stdout == ""
    assert missing.stderr.strip().count("\n") == 0 and "not found" in missing.stderr
    write(tmp_path / "app.py", "print('hi')\n")
    forgot = run(["honeyhive-run", "app.py"], cwd=tmp_path)
    assert forgot.returncode == 126
    assert "honeyhive-run python app.py" in forgot.stderr
    missing_py = run(["honeyhive-run", "other.py"], cwd=tmp_path)
    assert missing_py.returncode == 127
    assert "honeyhive-run python other.py" in missing_py.stderr
    script = write(tmp_path / "run.sh", "echo from-sh \"$@\"\n")  # no '#!': like a shell
    script.chmod(0o755)
    traced = run(["honeyhive-run", "./run.sh", "x"], cwd=tmp_path)
    assert traced.stdout == run(["sh", "-c", "./run.sh x"], cwd=tmp_path).stdout == "from-sh x\n"
    assert run(["honeyhive-run"]).returncode == 2


def test_bad_yaml_one_clear_message(tmp_path: Path) -> None:
    write(tmp_path / "honeyhive.yaml",
          "project: demo\nexporters: [local]\nbatch:\n  max_queue_size: lots\n")
    write(tmp_path / "app.py", TRACED_APP)  # @trace too: still only one message
    _bare, traced = run_both(["python", "app.py", "4"], cwd=tmp_path)
    assert traced.returncode == 4
    lines = agent_lines(traced.stderr)
    assert len(lines) == 1, traced.stderr
    assert "honeyhive.yaml:4" in lines[0] and "max_queue_size" in lines[0]
    assert traced.stderr.strip() == lines[0]
    # Child processes of the run stay quiet: one line per run, not per process.
    write(tmp_path / "parent.py", "import subprocess, sys\n"
          "subprocess.run([sys.executable, 'app.py', '0'])\nsubprocess.run([sys.executable, "
          "'-c', 'import os'])\nprint('parent done')\n")
    _bare, chained = run_both(["python", "parent.py"], cwd=tmp_path)
    assert chained.stderr.strip() == lines[0]
    # The same single line through the OpenTelemetry distro.
    env = agent_env({"OTEL_PYTHON_DISTRO": "honeyhive"})
    _bare, distro = run_both(["python", "app.py", "4"], env, cwd=tmp_path,
                             launcher=["opentelemetry-instrument"])
    assert distro.stderr.strip() == lines[0]
    assert not (tmp_path / ".honeyhive").exists()


def test_backend_down_app_unaffected(tmp_path: Path) -> None:
    write(tmp_path / "app.py", TRACED_APP)
    env = agent_env({
        "HH_EXPORTERS": "otlp",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": closed_url(),
        "HH_LOG_LEVEL": "error",
    })
    _bare, traced = run_both(["python", "app.py", "5"], env, cwd=tmp_path)
    assert traced.returncode == 5
    assert traced.stdout.startswith("result 42\n")


def test_disabled_means_nothing_at_all(tmp_path: Path) -> None:
    write(tmp_path / "app.py",
          "import sys; print([m for m in sys.modules if m.startswith('honeyhive_agent')])\n")
    env = agent_env({"HH_DISABLED": "1"})
    bare, traced = run_both(["python", "app.py"], env, cwd=tmp_path)
    assert traced.stderr == bare.stderr == ""
    # Only our sitecustomize was imported; the agent itself never loaded.
    assert traced.stdout == "[]\n"


def test_start_up_imports_nothing_heavy(tmp_path: Path) -> None:
    probe = (
        "import sys; heavy = ('openai', 'anthropic', 'opentelemetry', 'httpx', 'httpx2', "
        "'google', 'yaml', 'wrapt', 'instrumentors.openai', 'instrumentors.anthropic', "
        "'sqlite3', 'honeyhive_agent.tracer', 'honeyhive_agent.exporters', 'logging', 'uuid'); "
        "print(sorted(m for m in sys.modules if m in heavy or "
        "m.startswith('opentelemetry.')))"
    )
    _bare, traced = run_both(["python", "-c", probe], cwd=tmp_path)
    assert traced.stdout == "[]\n"
    assert traced.stderr == ""


def test_user_sitecustomize_still_runs_after_ours(tmp_path: Path) -> None:
    site = tmp_path / "usersite"
    write(site / "sitecustomize.py", """
        import sys
        CUSTOM = "agent first: %s" % ("honeyhive_agent._bootstrap" in sys.modules)
    """)
    write(tmp_path / "app.py", """
        import sitecustomize
        print("app sees", sitecustomize.__name__, sitecustomize.CUSTOM.startswith("agent"))
        print(sitecustomize.CUSTOM, file=__import__("sys").stderr)
    """)
    env = agent_env({"PYTHONPATH": str(site)})
    bare, traced = run_both(["python", "app.py"], env, cwd=tmp_path)
    assert traced.stdout == "app sees sitecustomize True\n"
    assert (bare.stderr, traced.stderr) == ("agent first: False\n", "agent first: True\n")


def test_import_auto_in_process(tmp_path: Path, receiver: OtlpReceiver,
                                otlp_env: dict[str, str]) -> None:
    write(tmp_path / "app.py", """
        import honeyhive_agent.auto  # noqa: F401
        import os
        print("session for children:", bool(os.environ.get("HH_SESSION_ID")))
    """)
    done = run(["python", "app.py"], otlp_env, cwd=tmp_path)
    assert done.stdout == "session for children: True\n", done.stderr
    assert done.stderr == ""


def test_python_found_on_path_is_used(tmp_path: Path) -> None:
    done = run(["honeyhive-run", "python", "-c", "import sys; print(sys.prefix)"])
    assert done.returncode == 0
    assert os.path.realpath(done.stdout.strip()) == os.path.realpath(
        run(["python", "-c", "import sys; print(sys.prefix)"]).stdout.strip())


def test_console_script_pytest(tmp_path: Path, receiver: OtlpReceiver,
                               otlp_env: dict[str, str]) -> None:
    write(tmp_path / "test_tiny.py", """
        from honeyhive_agent import trace

        @trace
        def add(a, b):
            return a + b

        def test_add():
            assert add(1, 2) == 3
    """)
    cmd = ["pytest", "-q", "-p", "no:cacheprovider", "test_tiny.py"]
    bare = run(cmd, otlp_env, cwd=tmp_path)
    receiver.clear()
    traced = run(["honeyhive-run", *cmd], otlp_env, cwd=tmp_path)
    assert traced.returncode == bare.returncode == 0, traced.stdout + traced.stderr
    assert [s["name"] for s in receiver.wait_for_spans(1)] == ["add"]


def test_missing_config_file_named_by_option(tmp_path: Path) -> None:
    write(tmp_path / "app.py", "print('ok')\n")
    done = run(["honeyhive-run", "--config", "nope.yaml", "python", "app.py"], cwd=tmp_path)
    assert done.returncode == 0 and done.stdout == "ok\n"
    (line,) = agent_lines(done.stderr)
    assert "nope.yaml" in line and "HONEYHIVE_CONFIG" in line


def test_interpreter_without_the_agent_runs_untraced(tmp_path: Path) -> None:
    other = Path("/usr/bin/python3")
    if not other.exists() or run([str(other), "-c", "import honeyhive_agent"]).returncode == 0:
        pytest.skip("needs a second interpreter that lacks honeyhive_agent")
    _bare, traced = run_both([str(other), "-c", "print('plain')"])
    (line,) = agent_lines(traced.stderr)
    assert "cannot be imported" in line
    # Its descendants stay quiet: only the program honeyhive-run started says it.
    nested = run(["honeyhive-run", "python", "-c",
                  f"import subprocess; subprocess.run([{str(other)!r}, '-c', 'pass'])"])
    assert agent_lines(nested.stderr) == []


def test_disabled_is_silent_even_with_a_broken_config(tmp_path: Path) -> None:
    write(tmp_path / "honeyhive.yaml", "projekt: typo\n")
    write(tmp_path / "app.py", TRACED_APP)
    env = agent_env({"HH_DISABLED": "1"})
    for launcher in (["honeyhive-run"], ["opentelemetry-instrument"]):
        _bare, traced = run_both(["python", "app.py", "6"], {**env, "OTEL_PYTHON_DISTRO":
                                 "honeyhive"}, cwd=tmp_path, launcher=launcher)
        assert traced.returncode == 6
        assert traced.stderr == ""
    assert not (tmp_path / ".honeyhive").exists()


def test_console_exporter_writes_to_stderr_only(tmp_path: Path) -> None:
    write(tmp_path / "app.py", TRACED_APP)
    bare = run(["python", "app.py"], cwd=tmp_path)
    traced = run(["honeyhive-run", "--exporter", "console", "python", "app.py"], cwd=tmp_path)
    assert traced.stdout == bare.stdout == "result 42\nargs []\n"
    assert "double" in traced.stderr
