"""`sessions` and `show` views of the local store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from honeyhive_agent.store.cli import cmd_sessions, cmd_show, render_tree
from honeyhive_agent.store.db import LocalStore
from tests.exporters.test_local_store import write_session


def test_sessions_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "t.db")
    write_session(db, "11111111-aaaa", name="first.py")
    write_session(db, "22222222-bbbb", name="second.py")
    assert cmd_sessions(["--db", db]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    header, first, second = out.splitlines()
    for column in ("STARTED", "SESSION", "NAME", "SPANS", "TOKENS", "ERRORS"):
        assert column in header
    assert first.split()[2:] == ["22222222-bbbb", "second.py", "3", "42", "1"]
    assert "11111111-aaaa" in second

    assert cmd_sessions(["--db", db, "--limit", "1", "--json"]) == 0
    (doc,) = json.loads(capsys.readouterr().out)
    assert doc["session_id"] == "22222222-bbbb" and doc["total_tokens"] == 42
    assert doc["span_count"] == 3 and doc["error_count"] == 1


def test_show_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "t.db")
    write_session(db, "11111111-aaaa", name="first.py")
    write_session(db, "22222222-bbbb", name="second.py")
    assert cmd_show(["1111", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "11111111-aaaa" in out and '"first.py"' in out
    tree = out.split("\n\n", 1)[1].splitlines()
    assert tree[0].startswith("agent  [chain]  ") and tree[0].endswith(" ms")
    assert tree[1].startswith("├─ openai.chat  [model]  gpt-4o-2024-08-06  ")
    assert tree[1].endswith("tokens 12 in / 30 out")
    assert tree[2].startswith("└─ lookup  [tool]  ") and "ERROR: KeyError: 'x'" in tree[2]

    assert cmd_show(["--last", "--db", db]) == 0
    assert "22222222-bbbb" in capsys.readouterr().out
    assert cmd_show(["--db", db]) == 0  # no argument: the latest
    assert "22222222-bbbb" in capsys.readouterr().out

    assert cmd_show(["--last", "--db", db, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["session"]["session_id"] == "22222222-bbbb"
    assert [(s["name"], s["depth"]) for s in doc["spans"]] == [
        ("agent", 0), ("openai.chat", 1), ("lookup", 1)
    ]


def test_deep_tree_rendering(tmp_path: Path) -> None:
    from honeyhive_agent.store.records import StoredSpan

    def span(sid: str, parent: str | None, start: int) -> StoredSpan:
        return StoredSpan("t", sid, parent, "s", sid, "INTERNAL", start, start + 1_000_000,
                          "UNSET", None, None, None, None, None)

    spans = [span("a", None, 1), span("b", "a", 2), span("c", "b", 3), span("d", "a", 4),
             span("e", "ghost", 5)]
    assert render_tree(spans, ascii_only=True).splitlines() == [
        "a  1.0 ms",
        "|- b  1.0 ms",
        "|  `- c  1.0 ms",
        "`- d  1.0 ms",
        "e  1.0 ms",
    ]


def test_errors_exit_1_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "missing.db")
    assert cmd_sessions(["--db", missing]) == 1
    assert "no local store" in capsys.readouterr().err
    assert cmd_show(["--last", "--db", missing]) == 1
    assert "no local store" in capsys.readouterr().err
    db = str(tmp_path / "t.db")
    write_session(db, "11111111-aaaa")
    write_session(db, "11111111-bbbb")
    assert cmd_show(["nope", "--db", db]) == 1
    captured = capsys.readouterr()
    assert "no session matching 'nope'" in captured.err and captured.out == ""
    assert cmd_show(["1111", "--db", db]) == 1
    assert "ambiguous" in capsys.readouterr().err
    assert cmd_sessions(["--limit", "x"]) == 2


def test_default_db_path_is_under_cwd(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cmd_sessions([]) == 1
    assert str(Path(".honeyhive") / "traces.db") in capsys.readouterr().err
    write_session(None, "cafe-0001")
    assert cmd_sessions([]) == 0
    assert "cafe-0001" in capsys.readouterr().out
    assert LocalStore(tmp_path / ".honeyhive" / "traces.db").exists


def test_views_print_in_a_plain_subprocess(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    write_session(db, "11111111-aaaa")
    code = (
        "import sys; from honeyhive_agent.store.cli import cmd_show; "
        f"sys.exit(cmd_show(['--db', {db!r}]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=30, env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"})
    assert result.returncode == 0, result.stderr
    assert "openai.chat" in result.stdout


def test_views_stop_quietly_when_the_reader_goes_away(tmp_path: Path) -> None:
    # `honeyhive-agent show --json | head -1`: no BrokenPipeError traceback.
    # Far more than a pipe holds, so the writer is still writing when the reader leaves.
    db = str(tmp_path / "t.db")
    for i in range(100):
        write_session(db, f"{i:08d}-aaaa", name="x" * 30000)
    for command in (["sessions", "--json"], ["show", "--json"]):
        proc = subprocess.Popen(
            [sys.executable, "-m", "honeyhive_agent", *command, "--db", db],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.readline()
        proc.stdout.close()  # before the command has written everything
        stderr = proc.stderr.read()
        assert proc.wait(timeout=30) == 1, stderr
        assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
