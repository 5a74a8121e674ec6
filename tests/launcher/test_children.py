"""Child processes: subprocess chains and multiprocessing pools join the run's session."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.launcher.conftest import agent_env, run, run_both, session_ids, write
from tests.support.fake_honeyhive import FakeHoneyHive
from tests.support.otlp_receiver import OtlpReceiver

CHAIN = {
    "parent.py": """
        import os, subprocess, sys
        from honeyhive_agent import trace

        @trace
        def parent_step():
            return subprocess.run([sys.executable, "child.py"], capture_output=True,
                                  text=True).stdout

        print("parent got:", parent_step().strip())
        sys.exit(2)
    """,
    "child.py": """
        import os, sys
        from honeyhive_agent import trace

        @trace
        def child_step():
            sys.stdout.flush()
            # os.system: a shell in between, the environment still carries the session.
            return os.system(sys.executable + " grandchild.py")

        print("child", child_step())
    """,
    "grandchild.py": """
        from honeyhive_agent import trace

        @trace
        def grandchild_step():
            return "deep"

        print("grandchild", grandchild_step())
    """,
}


def _write_chain(tmp_path: Path) -> None:
    for name, source in CHAIN.items():
        write(tmp_path / name, source)


def test_subprocess_chain_joins_one_session(
    tmp_path: Path, receiver: OtlpReceiver, otlp_env: dict[str, str]
) -> None:
    _write_chain(tmp_path)
    _bare, traced = run_both(["python", "parent.py"], otlp_env, cwd=tmp_path,
                             between=receiver.clear)
    assert traced.stdout == "parent got: grandchild deep\nchild 0\n"
    assert traced.returncode == 2
    spans = receiver.wait_for_spans(3)
    assert sorted(s["name"] for s in spans) == ["child_step", "grandchild_step", "parent_step"]
    assert len(session_ids(spans)) == 1, [s["attributes"] for s in spans]


def test_only_the_root_starts_the_session(tmp_path: Path) -> None:
    _write_chain(tmp_path)
    with FakeHoneyHive(api_key="hh-test-key-123456") as hh:
        env = agent_env({"HH_API_KEY": "hh-test-key-123456", "HH_API_URL": hh.url,
                         "HH_PROJECT": "chain"})
        done = run(["honeyhive-run", "python", "parent.py"], env, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        spans = hh.wait_for_spans(3)
        sessions = hh.wait_for_sessions(1)
        time.sleep(0.2)  # a second (wrong) session start would have arrived by now
        assert len(hh.sessions) == 1
        (session_id,) = session_ids(spans)
        assert sessions[0]["session"]["session_id"] == session_id
        assert sessions[0]["session"]["session_name"] == "parent.py"


POOL_APP = """
    import multiprocessing as mp
    import os, sys
    from honeyhive_agent import trace

    @trace
    def work(x):
        return x * x

    @trace
    def main():
        ctx = mp.get_context(sys.argv[1])
        with ctx.Pool(2) as pool:
            return pool.map(work, range(6))

    if __name__ == "__main__":
        print(main())
"""


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_pool_workers_deliver_every_span(
    tmp_path: Path, receiver: OtlpReceiver, otlp_env: dict[str, str], method: str
) -> None:
    write(tmp_path / "pool_app.py", POOL_APP)
    _bare, traced = run_both(["python", "pool_app.py", method], otlp_env, cwd=tmp_path,
                             between=receiver.clear)
    assert traced.stdout == "[0, 1, 4, 9, 16, 25]\n"
    assert traced.stderr == ""
    spans = receiver.wait_for_spans(7)
    names = sorted(s["name"] for s in spans)
    assert names == ["main"] + ["work"] * 6, names
    assert len(session_ids(spans)) == 1
    # Each worker span went out once: no duplicates from a fork's copied queue.
    assert len({s["span_id"] for s in spans}) == 7


def test_exec_flushes_and_the_new_program_joins(
    tmp_path: Path, receiver: OtlpReceiver, otlp_env: dict[str, str]
) -> None:
    write(tmp_path / "before.py", """
        import os, sys
        from honeyhive_agent import trace

        @trace
        def before_exec():
            return 1

        before_exec()
        sys.stdout.flush()
        os.execl(sys.executable, sys.executable, "after.py", "arg")
    """)
    write(tmp_path / "after.py", """
        import sys
        from honeyhive_agent import trace

        @trace
        def after_exec():
            return sys.argv[1]

        print("after", after_exec())
    """)
    _bare, traced = run_both(["python", "before.py"], otlp_env, cwd=tmp_path,
                             between=receiver.clear)
    assert traced.stdout == "after arg\n"
    spans = receiver.wait_for_spans(2)
    assert sorted(s["name"] for s in spans) == ["after_exec", "before_exec"]
    assert len(session_ids(spans)) == 1


def test_plain_fork_children_leaving_through_os_exit_deliver_their_spans(
    tmp_path: Path, receiver: OtlpReceiver, otlp_env: dict[str, str]
) -> None:
    # A forked child conventionally ends with os._exit (no atexit hooks run).
    write(tmp_path / "app.py", """
        import os
        from honeyhive_agent import trace

        @trace
        def in_child(i):
            return i

        pids = []
        for i in range(2):
            pid = os.fork()
            if pid == 0:
                in_child(i)
                os._exit(3)
            pids.append(pid)
        print([os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids])
    """)
    _bare, traced = run_both(["python", "app.py"], otlp_env, cwd=tmp_path,
                             between=receiver.clear)
    assert traced.stdout == "[3, 3]\n"
    spans = receiver.wait_for_spans(2)
    assert sorted(s["name"] for s in spans) == ["in_child", "in_child"]
    assert len(session_ids(spans)) == 1


def test_per_trace_session_covers_the_forked_workers_of_the_trace(
    tmp_path: Path, receiver: OtlpReceiver, otlp_env: dict[str, str]
) -> None:
    # session.per: trace - a request handed to forked workers is one trace,
    # hence one session, although the workers' spans have a remote parent.
    write(tmp_path / "app.py", """
        import multiprocessing as mp
        import os
        from honeyhive_agent import trace

        @trace
        def work(i):
            return i

        @trace(event_type="chain")
        def request():
            with mp.get_context("fork").Pool(2) as pool:
                done = pool.map(work, range(2))
            pid = os.fork()
            if pid == 0:
                work(9)
                os._exit(0)
            os.waitpid(pid, 0)
            return done

        if __name__ == "__main__":
            print(request())
    """)
    env = {**otlp_env, "HH_SESSION_PER": "trace"}
    _bare, traced = run_both(["python", "app.py"], env, cwd=tmp_path, between=receiver.clear)
    assert traced.stdout == "[0, 1]\n"
    spans = receiver.wait_for_spans(4)
    assert sorted(s["name"] for s in spans) == ["request", "work", "work", "work"]
    assert len({s["trace_id"] for s in spans}) == 1
    assert len(session_ids(spans)) == 1, [s["attributes"] for s in spans]


def test_explicit_session_id_is_joined_not_started(tmp_path: Path) -> None:
    write(tmp_path / "app.py", """
        from honeyhive_agent import trace

        @trace
        def step():
            return 1

        print(step())
    """)
    with FakeHoneyHive() as hh:
        env = agent_env({"HH_API_KEY": "hh-test-key-123456", "HH_API_URL": hh.url,
                         "HH_SESSION_ID": "11111111-2222-4333-8444-555555555555"})
        done = run(["honeyhive-run", "python", "app.py"], env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        spans = hh.wait_for_spans(1)
        assert session_ids(spans) == {"11111111-2222-4333-8444-555555555555"}
        assert hh.sessions == []


def test_pool_parent_without_spans_still_gets_its_session_started(tmp_path: Path) -> None:
    write(tmp_path / "quiet_parent.py", """
        import multiprocessing as mp
        from honeyhive_agent import trace

        @trace
        def work(x):
            return x + 1

        if __name__ == "__main__":
            with mp.get_context("spawn").Pool(2) as pool:
                print(pool.map(work, range(4)))
    """)
    with FakeHoneyHive() as hh:
        env = agent_env({"HH_API_KEY": "hh-test-key-123456", "HH_API_URL": hh.url})
        done = run(["honeyhive-run", "python", "quiet_parent.py"], env, cwd=tmp_path)
        assert done.stdout == "[1, 2, 3, 4]\n", done.stderr
        spans = hh.wait_for_spans(4)
        hh.wait_for_sessions(1)
        time.sleep(0.2)
        (session_id,) = session_ids(spans)
        assert [s["session"]["session_id"] for s in hh.sessions] == [session_id]
        # Started by a worker, named after the run.
        assert hh.sessions[0]["session"]["session_name"] == "quiet_parent.py"
        assert {s["attributes"]["honeyhive.session_name"] for s in spans} == {"quiet_parent.py"}


def test_children_in_another_directory_use_the_runs_config(
    tmp_path: Path, receiver: OtlpReceiver
) -> None:
    write(tmp_path / "honeyhive.yaml", f"""
        project: pinned
        exporters: [otlp]
        otlp: {{traces_endpoint: "{receiver.traces_url}"}}
    """)
    write(tmp_path / "elsewhere" / "child.py", CHAIN["grandchild.py"])
    write(tmp_path / "parent.py", """
        import subprocess, sys
        subprocess.run([sys.executable, "child.py"], cwd="elsewhere")
    """)
    done = run(["honeyhive-run", "python", "parent.py"], agent_env(), cwd=tmp_path)
    assert done.stdout == "grandchild deep\n", done.stderr
    (span,) = receiver.wait_for_spans(1)
    assert span["attributes"]["honeyhive.project"] == "pinned"
    assert not (tmp_path / "elsewhere" / ".honeyhive").exists()


def test_children_in_another_directory_write_to_the_runs_local_store(tmp_path: Path) -> None:
    # The default local store is under the directory the run started in, so
    # `honeyhive-agent show` there has the whole session.
    write(tmp_path / "elsewhere" / "child.py", CHAIN["grandchild.py"])
    write(tmp_path / "parent.py", """
        import os, subprocess, sys
        from honeyhive_agent import trace

        @trace
        def parent():
            subprocess.run([sys.executable, "child.py"], cwd="elsewhere")
            os.chdir("elsewhere")  # the app's own chdir changes nothing either

        parent()
    """)
    done = run(["honeyhive-run", "python", "parent.py"], agent_env(), cwd=tmp_path)
    assert done.stdout == "grandchild deep\n", done.stderr
    assert not (tmp_path / "elsewhere" / ".honeyhive").exists()
    shown = run(["honeyhive-agent", "show", "--last", "--json"], agent_env(), cwd=tmp_path)
    spans = json.loads(shown.stdout)["spans"]
    assert sorted(s["name"] for s in spans) == ["grandchild_step", "parent"], shown.stderr


PROCESS_APP = """
    import multiprocessing as mp
    import sys, time
    from honeyhive_agent import trace

    @trace
    def inner(x):
        return x

    def job(ready, how):
        from opentelemetry import trace as otel
        from honeyhive_agent.tracer import registry

        # `inner` ends under a local parent that never ends: eager export
        # leaves it queued, only a flush on the way out delivers it.
        outer = registry.get_or_create().get_otel_tracer().start_span("never-ended")
        with otel.use_span(outer, end_on_exit=False):
            inner(1)
        ready.set()
        if how == "term":
            time.sleep(60)

    if __name__ == "__main__":
        ctx = mp.get_context(sys.argv[1])
        ready = ctx.Event()
        proc = ctx.Process(target=job, args=(ready, sys.argv[2]))
        proc.start()
        ready.wait(30)
        if sys.argv[2] == "term":
            proc.terminate()
        proc.join(30)
        print("exitcode", proc.exitcode)
"""


@pytest.mark.parametrize("how", ["return", "term"])
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_worker_flushes_on_its_way_out(
    tmp_path: Path, receiver: OtlpReceiver, otlp_env: dict[str, str], method: str, how: str
) -> None:
    write(tmp_path / "proc_app.py", PROCESS_APP)
    _bare, traced = run_both(["python", "proc_app.py", method, how], otlp_env, cwd=tmp_path,
                             between=receiver.clear)
    assert traced.stdout == ("exitcode -15\n" if how == "term" else "exitcode 0\n")
    assert [s["name"] for s in receiver.wait_for_spans(1)] == ["inner"]


def test_exec_image_starts_the_session_its_root_never_used(tmp_path: Path) -> None:
    write(tmp_path / "launch.py", """
        import os, sys
        os.execl(sys.executable, sys.executable, "work.py")
    """)
    write(tmp_path / "work.py", CHAIN["grandchild.py"])
    with FakeHoneyHive() as hh:
        env = agent_env({"HH_API_KEY": "hh-test-key-123456", "HH_API_URL": hh.url})
        done = run(["honeyhive-run", "python", "launch.py"], env, cwd=tmp_path)
        assert done.stdout == "grandchild deep\n", done.stderr
        (session_id,) = session_ids(hh.wait_for_spans(1))
        hh.wait_for_sessions(1)
        time.sleep(0.2)
        assert [s["session"]["session_id"] for s in hh.sessions] == [session_id]
        assert hh.sessions[0]["session"]["session_name"] == "launch.py"
