"""``honeyhive-run`` argument parsing, command resolution and environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from honeyhive_agent import launcher
from honeyhive_agent.launcher import BOOTSTRAP_DIR, LaunchError, Options, build_env, parse_args


def test_options_before_the_command_only() -> None:
    opts = parse_args(["--project", "p", "--exporter=otlp", "--exporter", "console,local",
                       "python", "app.py", "--project", "mine"])
    assert opts.project == "p"
    assert opts.exporters == ["otlp", "console", "local"]
    assert opts.command == ["python", "app.py", "--project", "mine"]


def test_double_dash_ends_options() -> None:
    opts = parse_args(["--session-name", "s", "--", "--weird-cmd", "-x"])
    assert opts.session_name == "s"
    assert opts.command == ["--weird-cmd", "-x"]


@pytest.mark.parametrize("argv", [["--nope", "python"], ["--config"]])
def test_bad_options_exit_2(argv: list[str]) -> None:
    with pytest.raises(LaunchError) as info:
        parse_args(argv)
    assert info.value.code == 2


def test_env_carries_options_and_prepends_bootstrap(tmp_path: Path) -> None:
    opts = Options(command=["python"], config="cfg.yaml", project="p", session_name="n",
                   exporters=["otlp", "console"])
    env = build_env(opts, {"PYTHONPATH": f"/a{os.pathsep}{os.pathsep}/b", "PATH": "/bin"})
    # The user's empty entry (the working directory) stays: the app imports as without us.
    assert env["PYTHONPATH"] == os.pathsep.join([BOOTSTRAP_DIR, "/a", "", "/b"])
    assert build_env(opts, {"PYTHONPATH": ""})["PYTHONPATH"] == BOOTSTRAP_DIR
    assert build_env(opts, {})["PYTHONPATH"] == BOOTSTRAP_DIR
    assert env["HONEYHIVE_CONFIG"] == str(tmp_path / "cfg.yaml")
    assert env["HH_PROJECT"] == "p"
    assert env["HH_SESSION_NAME"] == "n"
    assert env["HH_EXPORTERS"] == "otlp,console"
    assert env["HH_RUN_DIR"] == str(tmp_path)  # a relative local.path is under it
    # Idempotent: a nested honeyhive-run does not stack the folder twice.
    again = build_env(Options(command=["x"]), env)
    assert again["PYTHONPATH"].split(os.pathsep).count(BOOTSTRAP_DIR) == 1


def test_bootstrap_folder_holds_only_sitecustomize() -> None:
    names = {p.name for p in Path(BOOTSTRAP_DIR).iterdir() if p.name != "__pycache__"}
    assert names == {"sitecustomize.py"}


def test_resolve_like_a_shell(tmp_path: Path) -> None:
    tool = tmp_path / "bin" / "tool"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    plain = tmp_path / "bin" / "plain"
    plain.write_text("")
    env = {"PATH": str(tool.parent)}
    assert launcher.resolve("tool", env) == str(tool)
    with pytest.raises(LaunchError) as missing:
        launcher.resolve("nothere", env)
    assert missing.value.code == 127
    with pytest.raises(LaunchError) as blocked:
        launcher.resolve("plain", env)
    assert blocked.value.code == 126
    (tmp_path / "app.py").write_text("print(1)\n")
    with pytest.raises(LaunchError) as script:
        launcher.resolve("app.py", env)  # cwd is tmp_path: an existing file wins
    assert script.value.code == 126
    assert "honeyhive-run python app.py" in str(script.value)
    (tmp_path / "tool").mkdir()  # a folder named like the command does not hide it
    assert launcher.resolve("tool", env) == str(tool)
    with pytest.raises(LaunchError) as folder:
        launcher.resolve("./tool", env)
    assert folder.value.code == 126
