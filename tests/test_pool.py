"""The worker pool with real worker processes: reuse, timeouts, crashes, concurrency, isolation and shutdown."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.waiting import DEADLINE, STREAMER_PASSES, wait_until
from xlr_runtime.errors import ScriptError
from xlr_runtime.scripting.build import prop, script_request
from xlr_runtime.scripting.contract import RunOutcome, ScriptRunRequest
from xlr_runtime.scripting.pool import WorkerPool
from xlr_runtime.settings import defaults

FILE = "/plugin/test/Script.py"


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    with WorkerPool(2, max_log_bytes=100_000) as workers:
        yield workers


def req(source: str, run_id: int = 1, timeout: float = 30.0, **kwargs: object) -> ScriptRunRequest:
    return script_request(source, run_id=run_id, timeout=timeout, **kwargs)  # type: ignore[arg-type]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z" if Path(f"/proc/{pid}").exists() else True


def wait_gone(pid: int, seconds: float = DEADLINE) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not alive(pid)


def test_workers_start_lazily_and_are_reused() -> None:
    with WorkerPool(3) as workers:
        assert workers.worker_pids == []
        first = workers.run_sync(req("print('hi')"))
        second = workers.run_sync(req("print('again')", run_id=2))

        assert (first.outcome, second.outcome) == (RunOutcome.SUCCEEDED, RunOutcome.SUCCEEDED)
        assert [line.text for line in first.log] == ["hi"]
        assert first.worker_pid == second.worker_pid != os.getpid()
        assert workers.worker_pids == [first.worker_pid]


def test_a_run_waits_for_its_not_before_time_and_its_timeout_counts_from_then(pool: WorkerPool) -> None:
    not_before = time.time() + 2.5
    request = dataclasses.replace(req("print('on time')", timeout=2.0), not_before=not_before)

    result = pool.run_sync(request)

    assert result.outcome is RunOutcome.SUCCEEDED, result.failure  # sent 2.5 s early: its 2 s count from its start
    assert result.started_at >= not_before


def test_a_run_returns_outputs_through_the_pipe(pool: WorkerPool) -> None:
    request = req(
        "count = '5'\ntask.setStatusLine('done')\ntask.schedule('test/Next.py', 1)",
        properties=[prop("count", "integer", "output")],
    )

    result = pool.submit(request).result(timeout=30)

    assert result.outcome is RunOutcome.SUCCEEDED
    assert result.properties == {"count": 5}
    assert result.status_line == "done"
    assert result.schedule is not None and result.schedule.script_path == "test/Next.py"


def test_a_hanging_script_times_out_and_its_worker_is_replaced(pool: WorkerPool) -> None:
    # the line has left the worker before the timeout (it waits for the streamer, well inside the 2 s)
    source = f"{STREAMER_PASSES}print('waiting')\nstreamer_passes(2)\nimport time\ntime.sleep(60)"
    result = pool.run_sync(req(source, timeout=2.0))

    assert result.outcome is RunOutcome.TIMED_OUT
    assert result.failure is not None
    assert result.failure.kind == "Timeout"
    assert result.failure.message == (
        f"the script ran longer than its timeout of 2 s; its worker process {result.worker_pid} was killed and replaced"
    )
    assert [line.text for line in result.log] == ["waiting", result.failure.message]
    assert result.worker_pid is not None and wait_gone(result.worker_pid)
    assert pool.run_sync(req("print('next')")).outcome is RunOutcome.SUCCEEDED


def test_a_timeout_also_kills_processes_the_script_started(pool: WorkerPool, tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    source = (
        "import subprocess, time\n"
        "child = subprocess.Popen(['sleep', '60'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )

    result = pool.run_sync(req(source, timeout=2.0))  # ample for starting 'sleep' and writing its pid

    assert result.outcome is RunOutcome.TIMED_OUT
    assert wait_gone(int(pid_file.read_text()))


def test_os_exit_crashes_the_run_and_the_next_run_gets_a_fresh_worker(pool: WorkerPool) -> None:
    # 'before' has left the worker when it dies: the script waits for the log streamer (was: 0.6 s)
    result = pool.run_sync(req(f"import os\n{STREAMER_PASSES}print('before')\nstreamer_passes(2)\nos._exit(3)"))

    assert result.outcome is RunOutcome.CRASHED
    assert result.failure is not None
    assert (result.failure.kind, result.failure.message) == (
        "WorkerCrash",
        f"the worker process {result.worker_pid} running the script died: exit code 3",
    )
    assert [line.text for line in result.log] == ["before", result.failure.message]
    after = pool.run_sync(req("print('alive')", run_id=2))
    assert after.outcome is RunOutcome.SUCCEEDED
    assert after.worker_pid != result.worker_pid


def test_a_segfault_crashes_the_run_and_shows_the_script_frame(pool: WorkerPool) -> None:
    result = pool.run_sync(req("import ctypes\nctypes.string_at(0)\n"))

    assert result.outcome is RunOutcome.CRASHED
    assert result.failure is not None
    assert result.failure.message == (f"the worker process {result.worker_pid} running the script died: signal SIGSEGV")
    assert "Fatal Python error: Segmentation fault" in result.failure.traceback
    assert f'File "{FILE}", line 2 in <module>' in result.failure.traceback
    assert pool.run_sync(req("x = 1")).outcome is RunOutcome.SUCCEEDED


def test_a_killed_worker_is_reported_with_its_signal(pool: WorkerPool) -> None:
    result = pool.run_sync(req("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"))

    assert result.outcome is RunOutcome.CRASHED
    assert result.failure is not None
    assert result.failure.message == (
        f"the worker process {result.worker_pid} running the script died: signal SIGKILL (killed; possibly out of "
        "memory)"
    )


def test_many_concurrent_runs_each_get_their_own_result() -> None:
    with WorkerPool(4) as workers:
        futures = [
            workers.submit(
                req(
                    f"import time\ntime.sleep(0.02)\nn = {i}\nprint('run', n)",
                    run_id=i,
                    properties=[prop("n", "integer", "output")],
                )
            )
            for i in range(40)
        ]
        results = [future.result(timeout=60) for future in futures]

    assert [r.outcome for r in results] == [RunOutcome.SUCCEEDED] * 40
    assert [(r.run_id, r.properties["n"], r.log[0].text) for r in results] == [(i, i, f"run {i}") for i in range(40)]
    assert 1 < len({r.worker_pid for r in results}) <= 4


def test_scripts_cannot_reach_the_parent_database(pool: WorkerPool, tmp_path: Path) -> None:
    database = tmp_path / "xlr.db"
    connection = sqlite3.connect(database)
    connection.execute("create table t (x)")
    try:
        source = (
            "import os\n"
            "targets = []\n"
            "for fd in os.listdir('/proc/self/fd'):\n"
            "    try:\n"
            "        targets.append(os.readlink('/proc/self/fd/' + fd))\n"
            "    except OSError:\n"
            "        pass\n"
            "print([t for t in targets if t.endswith('xlr.db')])\n"
        )
        result = pool.run_sync(req(source))
    finally:
        connection.close()

    assert [line.text for line in result.log] == ["[]"]


def test_workers_serve_the_xl_release_import_names(pool: WorkerPool) -> None:
    source = (
        "from xlrelease.HttpRequest import HttpRequest as Imported\n"
        "from com.xebialabs.xlrelease.plugin.webhook import JsonPathResult as J\n"
        "print(Imported is HttpRequest, J is JsonPathResult)"
    )

    assert [line.text for line in pool.run_sync(req(source)).log] == ["True True"]


def test_a_request_that_cannot_be_sent_fails_without_harming_the_worker(pool: WorkerPool) -> None:
    result = pool.run_sync(req("x = 1", properties=[prop("x")], values={"x": lambda: 1}))

    assert result.outcome is RunOutcome.FAILED
    assert result.failure is not None
    assert result.failure.message.startswith("the script run cannot be sent to a worker: ")
    assert pool.run_sync(req("x = 1")).outcome is RunOutcome.SUCCEEDED


def test_shutdown_waits_for_running_scripts_and_stops_the_workers() -> None:
    workers = WorkerPool(1)
    future = workers.submit(req("import time\ntime.sleep(0.3)\nprint('finished')"))
    queued = workers.submit(req("print('queued')", run_id=2))
    wait_until(future.running, "the first script did not start")
    workers.shutdown(wait=True)

    assert future.done() and [line.text for line in future.result().log] == ["finished"]
    assert queued.result().outcome is RunOutcome.SUCCEEDED
    assert wait_gone(future.result().worker_pid or 0)
    with pytest.raises(ScriptError) as caught:
        workers.submit(req("x = 1"))
    assert str(caught.value) == "the worker pool is shut down; no more scripts can run"


def test_shutdown_without_wait_ends_every_run_with_a_reason(tmp_path: Path) -> None:
    streamed = tmp_path / "streamed"
    workers = WorkerPool(1)
    workers.run_sync(req("x = 1"))  # a started worker
    # 'started' is printed, then the script waits until the worker's log streamer has sent it to the pool and
    # says so in a file: a condition, not a sleep that hopes the line has left the worker
    source = (
        f"import time\n{STREAMER_PASSES}print('started')\nstreamer_passes(2)\n"
        f"open({str(streamed)!r}, 'w').close()\ntime.sleep(60)"
    )
    running = workers.submit(req(source))
    queued = workers.submit(req("x = 1", run_id=2))
    wait_until(streamed.exists, "the running script's line was not streamed")
    workers.shutdown(wait=False)

    first, second = running.result(timeout=DEADLINE), queued.result(timeout=DEADLINE)
    assert (first.outcome, first.failure and first.failure.kind) == (RunOutcome.CRASHED, "Shutdown")
    assert first.failure is not None
    assert first.failure.message == "the worker pool shut down while the script was running"
    assert first.log[0].text == "started"
    assert (second.outcome, second.failure and second.failure.message) == (
        RunOutcome.CRASHED,
        "the worker pool shut down before the script started",
    )


def test_pool_size_and_log_limit_come_from_settings() -> None:
    settings = defaults().with_overrides(workers_size=3, scripts_max_log_bytes=1234)
    workers = WorkerPool.from_settings(settings)
    try:
        assert (workers.size, workers.max_log_bytes) == (3, 1234)
    finally:
        workers.shutdown()


def test_a_pool_needs_a_worker() -> None:
    with pytest.raises(ScriptError) as caught:
        WorkerPool(0)
    assert str(caught.value) == "a worker pool needs at least 1 worker, got 0"


def test_a_script_printing_50_mb_through_a_worker_keeps_a_bounded_log(pool: WorkerPool) -> None:
    result = pool.run_sync(req("chunk = 'x' * (1024 * 1024)\nfor _ in range(50):\n    print(chunk)\nprint('end')"))

    assert result.outcome is RunOutcome.SUCCEEDED
    assert sum(len(line.text) for line in result.log) < 100_000 + 200
    assert result.log[-1].text == (
        "[output truncated: the task log keeps 100000 bytes per script run; further output was dropped]"
    )
