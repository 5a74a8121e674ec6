"""Default session names: the script or module being run, never the agent's own."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from honeyhive_agent.tracer.session import default_session_name
from tests.support.fake_honeyhive import FakeHoneyHive

PY = "/usr/bin/python3"


@pytest.mark.parametrize(
    ("argv", "orig_argv", "main_module", "expected"),
    [
        (["app.py"], [PY, "app.py"], None, "app.py"),
        (["/srv/app/main.py", "--port", "1"], [PY, "/srv/app/main.py"], None, "main.py"),
        (["/x/pkg/mod.py"], [PY, "-m", "pkg.mod"], "pkg.mod", "pkg.mod"),
        (["/x/pkg/__main__.py"], [PY, "-m", "pkg"], "pkg.__main__", "pkg"),
        # Early in start-up (sitecustomize): argv[0] is "-m", no __main__ spec yet.
        (["-m"], [PY, "-m", "myapp.server"], None, "myapp.server"),
        (["-m"], [PY, "-X", "dev", "-W", "ignore", "-m", "myapp.server"], None, "myapp.server"),
        (["-m"], [PY, "-um", "myapp.server"], None, "myapp.server"),
        (["-m"], [PY, "-mmyapp.server"], None, "myapp.server"),
        (["-c"], [PY, "-c", "print(1)"], None, "python -c"),
        ([""], [PY], None, "python"),
        (["-"], [PY, "-"], None, "python"),
        (["/venv/bin/mytool", "serve"], [PY, "/venv/bin/mytool", "serve"], None, "mytool"),
        # The agent's launcher and bootstrap are never the name.
        (["app.py"], [PY, "app.py"], "honeyhive_agent.launcher", "app.py"),
        (["app.py"], [PY, "-m", "honeyhive_agent", "app.py"], None, "app.py"),
        (["/venv/bin/honeyhive-run"], [PY, "/venv/bin/honeyhive-run"], None, "python"),
    ],
)
def test_default_session_name(
    argv: list[str],
    orig_argv: list[str],
    main_module: str | None,
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # main_module=None means "look at __main__": make that the spec-less
    # __main__ of a script, not pytest's own when run as `python -m pytest`.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    assert default_session_name(argv, orig_argv, main_module) == expected


def test_default_session_name_in_this_process() -> None:
    # Under pytest: a console script or `python -m pytest`, never empty.
    assert default_session_name() in {"pytest", "py.test", "pytest.__main__", "python"}


APP = """
from honeyhive_agent.tracer import HoneyHiveTracer

tracer = HoneyHiveTracer()
with tracer.get_otel_tracer().start_as_current_span("work"):
    pass
print(tracer.session_name)
"""


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("how", ["script", "module"])
def test_session_name_of_a_real_process(how: str, tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text(APP)
    (tmp_path / "app.py").write_text(APP)
    args, expected = (["app.py"], "app.py") if how == "script" else (["-m", "pkg.mod"], "pkg.mod")
    with FakeHoneyHive() as hh:
        env = {"HH_API_KEY": "k", "HH_API_URL": hh.url}
        assert _run(args, tmp_path, env) == expected
        # The exit flush started the session and delivered the span.
        (session,) = hh.wait_for_sessions(1)
        assert session["session"]["session_name"] == expected
        (span,) = hh.wait_for_spans(1)
        assert span["resource"]["service.name"] == expected
        assert span["attributes"]["honeyhive.session_name"] == expected


def test_session_name_when_created_at_interpreter_start(tmp_path: Path) -> None:
    # What the bootstrap does: the tracer exists before __main__ is set up.
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "from honeyhive_agent.tracer import HoneyHiveTracer\n"
        "import builtins\n"
        "builtins.early = HoneyHiveTracer(exporters=['none'])\n"
    )
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "server.py").write_text(
        "import builtins\nprint(builtins.early.session_name)\n"
    )
    out = _run(["-m", "pkg.server"], tmp_path, {"PYTHONPATH": str(site)})
    assert out == "pkg.server"


def test_configured_session_name_wins(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        APP.replace("HoneyHiveTracer()", "HoneyHiveTracer(exporters=['none'])")
    )
    assert _run(["app.py"], tmp_path, {"HH_SESSION_NAME": "nightly-eval"}) == "nightly-eval"
