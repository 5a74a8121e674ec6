"""HoneyHiveClient against a fake HoneyHive: bodies, failures, the worker queue."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from honeyhive_agent.api_client import HoneyHiveClient
from tests.support.fake_honeyhive import FakeHoneyHive
from tests.support.otlp_receiver import Request, closed_url
from tests.tracer.conftest import AgentLog

KEY = "hh-client-key-0123456789"


@pytest.fixture
def hh() -> Iterator[FakeHoneyHive]:
    with FakeHoneyHive(api_key=KEY) as server:
        yield server


def test_start_session_sends_only_set_fields(hh: FakeHoneyHive) -> None:
    client = HoneyHiveClient(hh.url + "/", KEY, 2.0)
    got = client.start_session(
        session_id="s-1", session_name="n", source="dev", inputs={"q": 1}
    )
    assert got == "s-1"
    assert hh.sessions == [
        {"session": {"session_name": "n", "source": "dev", "inputs": {"q": 1}, "session_id": "s-1"}}
    ]
    (request,) = hh.requests_for("session")
    assert request["headers"]["authorization"] == f"Bearer {KEY}"
    assert request["headers"]["user-agent"].startswith("honeyhive-agent/")
    client.close(1.0)


def test_update_event_sends_only_set_fields(hh: FakeHoneyHive) -> None:
    client = HoneyHiveClient(hh.url, KEY, 2.0)
    assert client.update_event("e-1", metadata={"a": 1}, feedback=None)
    assert hh.events == [{"event_id": "e-1", "metadata": {"a": 1}}]


def test_non_json_success_is_still_success() -> None:
    class Plain(FakeHoneyHive):
        def _handle(self, route: str, request: Request) -> tuple[int, dict[str, str], bytes]:
            return 200, {"Content-Type": "text/plain"}, b"ok"

    with Plain() as hh:
        client = HoneyHiveClient(hh.url, KEY, 2.0)
        assert client.start_session(session_id="s-2") == "s-2"
        assert client.update_event("s-2", metrics={"m": 1})


def test_failures_return_none_and_warn_once(agent_log: AgentLog) -> None:
    client = HoneyHiveClient(closed_url(""), KEY, 0.5)
    assert client.start_session(session_id="s") is None
    assert not client.update_event("s", metadata={"a": 1})
    assert client.start_session(session_id="s") is None
    warnings = agent_log.warnings()
    assert len(warnings) == 1
    assert "ConnectError" in warnings[0]
    assert KEY not in warnings[0]


def test_worker_runs_tasks_in_order_and_survives_exceptions() -> None:
    client = HoneyHiveClient(closed_url(""), KEY, 0.5)
    seen: list[int] = []

    def boom() -> None:
        raise RuntimeError("task failure")

    assert client.submit(lambda: seen.append(1))
    assert client.submit(boom)
    assert client.submit(lambda: seen.append(2))
    assert client.flush(2.0)
    assert seen == [1, 2]
    assert client.close(1.0)
    assert client.close(1.0)  # idempotent
    assert not client.submit(lambda: seen.append(3))


def test_full_queue_drops_and_warns_once(agent_log: AgentLog) -> None:
    client = HoneyHiveClient(closed_url(""), KEY, 0.5, queue_size=2)
    running, release = threading.Event(), threading.Event()

    def block() -> None:
        running.set()
        release.wait(5)

    assert client.submit(block)
    assert running.wait(5)  # the worker is busy, the queue is empty
    accepted = [client.submit(lambda: None) for _ in range(5)]
    release.set()
    assert accepted == [True, True, False, False, False]
    assert client.flush(2.0)
    assert len([w for w in agent_log.warnings() if "queue is full" in w]) == 1


def test_flush_times_out_on_a_stuck_task() -> None:
    client = HoneyHiveClient(closed_url(""), KEY, 0.5)
    release = threading.Event()
    client.submit(lambda: release.wait(5))
    assert not client.flush(0.1)
    assert not client.close(0.1)
    release.set()
