"""A pre-fork server (gunicorn) under the agent: every worker's spans, one session."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.launcher.conftest import TIMEOUT_S, session_ids, write
from tests.support.otlp_receiver import OtlpReceiver

pytest.importorskip("gunicorn")

WSGI_APP = """
    import os
    from honeyhive_agent import trace

    @trace
    def handle(path):
        return f"{path} from {os.getpid()}"

    def app(environ, start_response):
        body = handle(environ["PATH_INFO"]).encode()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, deadline: float) -> str:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return str(response.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.mark.parametrize("preload", [False, True])
def test_gunicorn_workers(tmp_path: Path, receiver: OtlpReceiver,
                          otlp_env: dict[str, str], preload: bool) -> None:
    write(tmp_path / "wsgi.py", WSGI_APP)
    port = _free_port()
    cmd = ["honeyhive-run", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
           "--graceful-timeout", "5", "wsgi:app"] + (["--preload"] if preload else [])
    server = subprocess.Popen(cmd, env=otlp_env, cwd=tmp_path, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        bodies = [_get(f"http://127.0.0.1:{port}/r{i}", deadline) for i in range(8)]
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=TIMEOUT_S)
    assert server.returncode == 0, err
    assert out == ""
    assert "honeyhive-agent" not in err
    assert [b.split(" from ")[0] for b in bodies] == [f"/r{i}" for i in range(8)]
    spans = receiver.wait_for_spans(8)
    assert sorted(s["attributes"]["honeyhive_inputs.path"] for s in spans) == sorted(
        f"/r{i}" for i in range(8))
    assert len(session_ids(spans)) == 1
    assert len({s["span_id"] for s in spans}) == 8
