"""Runs of one worker stay apart (issue 12), with real worker processes: a script's threads, forks, child
processes, direct writes to file descriptors 1 and 2 and memory never reach another run; a worker crash keeps
what the run printed last. Every wait on a condition has a generous deadline."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from xlr_runtime.errors import ConfigError
from xlr_runtime.scripting.build import prop, script_request
from xlr_runtime.scripting.contract import RunOutcome, ScriptRunRequest, ScriptRunResult
from xlr_runtime.scripting.masking import MASK
from xlr_runtime.scripting.pool import WorkerPool
from xlr_runtime.settings import defaults

FIRST = "f1rst-s3cret-41"
SECOND = "s2cond-s3cret-42"
#: Seconds any condition is given before a test gives up on it.
DEADLINE = 30.0


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    with WorkerPool(1, max_log_bytes=100_000) as workers:
        yield workers


def secret_run(source: str, password: str, run_id: int, **kwargs: object) -> ScriptRunRequest:
    properties = [prop("password", password=True), *kwargs.pop("properties", [])]  # type: ignore[misc]
    return script_request(
        source,
        run_id=run_id,
        properties=properties,
        values={"password": password, **kwargs.pop("values", {})},  # type: ignore[dict-item]
        **kwargs,  # type: ignore[arg-type]
    )


def texts(result: ScriptRunResult) -> list[str]:
    return [line.text for line in result.log]


def wait_for_lines(path: Path, count: int) -> str:
    """A script line waiting (up to :data:`DEADLINE`) until ``path`` has ``count`` more lines than now."""
    return (
        "import time as _t\n"
        f"_path = {str(path)!r}\n"
        "_count = lambda: len(open(_path).read().splitlines())\n"
        f"_goal, _end = _count() + {count}, _t.monotonic() + {DEADLINE}\n"
        "while _count() < _goal and _t.monotonic() < _end:\n"
        "    _t.sleep(0.01)\n"
        "assert _count() >= _goal, 'no line came'\n"
    )


# 1. A thread the script started keeps printing after its run ended.


def test_a_thread_printing_after_its_run_never_reaches_the_next_runs_log(pool: WorkerPool, tmp_path: Path) -> None:
    beats = tmp_path / "beats"
    beats.write_text("")
    leaker = (
        "import threading, time\n"
        "def leak():\n"
        "    while True:\n"
        "        print('late ' + password)\n"
        "        sys.stderr.write('late on stderr ' + password + '\\n')\n"
        f"        open({str(beats)!r}, 'a').write('beat\\n')\n"
        "        time.sleep(0.01)\n"
        "threading.Thread(target=leak, daemon=True).start()\n"
    )
    first = pool.run_sync(secret_run(leaker, FIRST, 1))
    second = pool.run_sync(secret_run(wait_for_lines(beats, 5) + "print('second ' + password)", SECOND, 2))

    assert first.outcome is RunOutcome.SUCCEEDED
    assert second.outcome is RunOutcome.SUCCEEDED, second.failure
    assert first.worker_pid == second.worker_pid
    assert texts(second) == [f"second {MASK}"]
    assert FIRST not in repr(second)


def test_threads_started_by_a_scripts_threads_print_into_its_own_log(pool: WorkerPool) -> None:
    source = (
        "import threading\n"
        "def inner():\n"
        "    print('inner ' + password)\n"
        "def outer():\n"
        "    t = threading.Thread(target=inner)\n"
        "    t.start()\n"
        "    t.join()\n"
        "t = threading.Thread(target=outer)\n"
        "t.start()\n"
        "t.join()\n"
        "sys.stdout = sys.__stdout__\n"  # what some scripts do after capturing output themselves
        "print('restored')\n"
    )
    result = pool.run_sync(secret_run(source, FIRST, 1))
    after = pool.run_sync(secret_run("print('next')", SECOND, 2))

    assert texts(result) == [f"inner {MASK}", "restored"]
    assert texts(after) == ["next"]


# 1b. Text written to file descriptors 1 and 2 directly or by subprocesses.


def files_held_by(pid: int) -> list[bytes]:
    """The contents of every regular file process ``pid`` has open (deleted temporary files included)."""
    contents = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        path = f"/proc/{pid}/fd/{fd}"
        try:
            if stat.S_ISREG(os.stat(path).st_mode):
                with open(path, "rb") as file:
                    contents.append(file.read())
        except OSError:
            pass
    return contents


def test_output_written_to_file_descriptors_never_goes_to_a_file(pool: WorkerPool) -> None:
    source = (
        "import os, subprocess\n"
        "os.write(1, ('direct ' + password + '\\n').encode())\n"
        "os.write(2, ('direct on 2 ' + password + '\\n').encode())\n"
        "subprocess.run(['echo', password], check=True)\n"
        "subprocess.run(['sh', '-c', 'echo \"$P\" >&2'], env={'P': password}, check=True)\n"
        "print('done')\n"
    )
    result = pool.run_sync(secret_run(source, FIRST, 1))

    assert result.outcome is RunOutcome.SUCCEEDED, result.failure
    assert texts(result) == ["done"]
    assert result.worker_pid is not None
    assert not [content for content in files_held_by(result.worker_pid) if FIRST.encode() in content]


def test_a_crash_shows_what_the_run_wrote_to_file_descriptors_masked(pool: WorkerPool) -> None:
    source = "import os, subprocess\nsubprocess.run(['echo', 'child says', password])\nos._exit(3)\n"
    result = pool.run_sync(secret_run(source, FIRST, 1))

    assert result.outcome is RunOutcome.CRASHED
    assert result.failure is not None
    assert result.failure.traceback == f"worker stderr:\nchild says {MASK}"


def test_a_crash_never_shows_part_of_a_secret_where_its_output_is_cut(pool: WorkerPool) -> None:
    source = "import os\nos.write(2, (password + 'y' * 2996).encode())\nos._exit(3)\n"
    result = pool.run_sync(secret_run(source, FIRST, 1))

    assert result.outcome is RunOutcome.CRASHED
    assert result.failure is not None
    assert result.failure.traceback.endswith("y" * 2996)
    assert FIRST[-4:] not in result.failure.traceback


def test_a_crash_masks_what_an_earlier_runs_thread_wrote_to_a_file_descriptor(pool: WorkerPool, tmp_path: Path) -> None:
    beats = tmp_path / "beats"
    beats.write_text("")
    leaker = (
        "import os, threading, time\n"
        "def leak():\n"
        "    while True:\n"
        "        os.write(2, ('late ' + password + '\\n').encode())\n"
        f"        open({str(beats)!r}, 'a').write('beat\\n')\n"
        "        time.sleep(0.01)\n"
        "threading.Thread(target=leak, daemon=True).start()\n"
    )
    first = pool.run_sync(secret_run(leaker, FIRST, 1))
    second = pool.run_sync(secret_run(wait_for_lines(beats, 5) + "import os\nos._exit(3)\n", SECOND, 2))

    assert (first.outcome, second.outcome) == (RunOutcome.SUCCEEDED, RunOutcome.CRASHED)
    assert second.failure is not None
    assert f"late {MASK}" in second.failure.traceback
    assert FIRST not in repr(second)


# 2. Scripts that fork, and processes a run leaves running.


def test_a_forked_child_that_carries_on_never_answers_for_a_run(pool: WorkerPool) -> None:
    forks = (
        "import os, time\n"
        "n = 1\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    n = 999\n"  # the child carries on to the script's end, into the worker's own code
        "else:\n"
        f"    end = time.monotonic() + {DEADLINE}\n"
        "    while os.waitpid(child, os.WNOHANG) == (0, 0) and time.monotonic() < end:\n"
        "        time.sleep(0.01)\n"
    )
    output = [prop("n", "integer", "output")]
    results = [pool.run_sync(script_request(forks, run_id=1, properties=output))]
    results += [pool.run_sync(script_request(f"n = {i}", run_id=i, properties=output)) for i in range(2, 6)]

    assert [(r.run_id, r.outcome, r.properties.get("n")) for r in results] == [
        (i, RunOutcome.SUCCEEDED, i) for i in range(1, 6)
    ]
    assert len({r.worker_pid for r in results}) == 1


def test_a_result_sent_late_by_a_forked_child_is_never_taken_for_a_later_run(pool: WorkerPool) -> None:
    forks = "import os, time\nn = 1\nif os.fork() == 0:\n    time.sleep(0.5)\n    n = 999\n"
    output = [prop("n", "integer", "output")]
    first = pool.run_sync(script_request(forks, run_id=1, properties=output))
    second = pool.run_sync(script_request("import time\ntime.sleep(1.5)\nn = 2", run_id=2, properties=output))

    assert (first.run_id, first.properties) == (1, {"n": 1})
    assert (second.run_id, second.properties) == (2, {"n": 2})


def test_a_forked_child_that_learns_a_secret_carries_on(pool: WorkerPool, tmp_path: Path) -> None:
    done = tmp_path / "done"
    source = (
        "import os, time\n"
        "from xlr_runtime.mask import hide\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    hide('child-token-7')\n"  # what HttpRequest does with a token: the worker would report it
        f"    open({str(done)!r}, 'w').write('done')\n"
        "    os._exit(0)\n"
        f"end = time.monotonic() + {DEADLINE}\n"
        "while os.waitpid(child, os.WNOHANG) == (0, 0) and time.monotonic() < end:\n"
        "    time.sleep(0.01)\n"
    )
    result = pool.run_sync(script_request(source))

    assert result.outcome is RunOutcome.SUCCEEDED, result.failure
    assert done.read_text() == "done"


def test_processes_a_run_leaves_running_end_with_it(pool: WorkerPool, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    source = (
        "import os, subprocess, time\n"
        f"out = open({str(pids)!r}, 'w')\n"
        "out.write('%d\\n' % subprocess.Popen(['sleep', '300']).pid)\n"
        "out.write('%d\\n' % subprocess.Popen(['sleep', '300'], start_new_session=True).pid)\n"
        "for detach in ('sleep 300', 'setsid sleep 300'):\n"  # the shell exits: its background job is orphaned
        "    shell = ['sh', '-c', detach + ' >/dev/null 2>&1 & echo $!']\n"
        "    out.write(subprocess.run(shell, capture_output=True, text=True).stdout)\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    time.sleep(300)\n"
        "    os._exit(0)\n"
        "out.write('%d\\n' % child)\n"
        "out.close()\n"
    )
    result = pool.run_sync(script_request(source))
    started = [int(pid) for pid in pids.read_text().split()]
    after = pool.run_sync(
        script_request(
            "import subprocess\nprint(subprocess.run(['echo', 'ok'], capture_output=True, text=True).stdout.strip())",
            run_id=2,
        )
    )

    assert result.outcome is RunOutcome.SUCCEEDED, result.failure
    assert len(started) == 5
    assert [pid for pid in started if not wait_gone(pid)] == []
    assert (after.outcome, texts(after), after.worker_pid) == (RunOutcome.SUCCEEDED, ["ok"], result.worker_pid)


def test_a_process_started_behind_pythons_back_ends_when_the_worker_is_idle(pool: WorkerPool, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    source = (
        "import ctypes, os, time\n"
        "child = ctypes.CDLL(None).fork()\n"  # as a C library would: no Python function notes it
        "if child == 0:\n"
        "    time.sleep(300)\n"
        "    os._exit(0)\n"
        f"open({str(pid_file)!r}, 'w').write(str(child))\n"
    )
    result = pool.run_sync(script_request(source))

    assert result.outcome is RunOutcome.SUCCEEDED, result.failure
    assert wait_gone(int(pid_file.read_text()))
    assert pool.run_sync(script_request("x = 1", run_id=2)).worker_pid == result.worker_pid


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            return file.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def wait_gone(pid: int) -> bool:
    deadline = time.monotonic() + DEADLINE
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not alive(pid)


# 3. Lines printed just before the worker dies.


@pytest.mark.parametrize(
    ("death", "cause"), [("os._exit(3)", "exit code 3"), ("os.abort()", "signal SIGABRT")], ids=["exit", "abort"]
)
def test_lines_printed_just_before_a_worker_dies_are_kept_masked(pool: WorkerPool, death: str, cause: str) -> None:
    source = (
        f"import os\nprint('last words ' + password)\nsys.stderr.write('on stderr ' + password + '\\n')\n"
        f"sys.stdout.write(password[:5])\n{death}\n"  # half a secret never leaves the worker
    )
    result = pool.run_sync(secret_run(source, FIRST, 1))

    assert result.outcome is RunOutcome.CRASHED
    assert result.failure is not None
    assert result.failure.message == f"the worker process {result.worker_pid} running the script died: {cause}"
    assert [(line.stream, line.text) for line in result.log] == [
        ("stdout", f"last words {MASK}"),
        ("stderr", f"on stderr {MASK}"),
        ("system", result.failure.message),
    ]
    assert FIRST[:5] not in repr(result)


# 4. Memory a run leaves behind.


def rss_mb(pid: int) -> int:
    with open(f"/proc/{pid}/statm", "rb") as file:
        return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // (1024 * 1024)


def test_the_memory_of_a_large_run_is_freed_before_the_next_run() -> None:
    with WorkerPool(1) as workers:
        small = workers.run_sync(script_request("x = 1"))
        baseline = rss_mb(small.worker_pid or 0)
        large = workers.run_sync(
            script_request("data = 'x' * (300 * 1024 * 1024)\ndef f():\n    return data", run_id=2)
        )

        assert large.outcome is RunOutcome.SUCCEEDED, large.failure
        assert large.worker_pid == small.worker_pid
        assert rss_mb(large.worker_pid or 0) < baseline + 100  # the namespace is a cycle: only the collector frees it


def test_a_large_run_is_freed_in_a_worker_started_by_a_large_process() -> None:
    # an exec'd worker's getrusage peak starts at its parent's: measured on that, its own growth went unseen
    ballast = b"x" * (400 * 1024 * 1024)
    with WorkerPool(1) as workers:
        small = workers.run_sync(script_request("x = 1"))
        baseline = rss_mb(small.worker_pid or 0)
        large = workers.run_sync(
            script_request("data = 'x' * (300 * 1024 * 1024)\ndef f():\n    return data", run_id=2)
        )
        assert large.outcome is RunOutcome.SUCCEEDED, large.failure
        assert rss_mb(large.worker_pid or 0) < baseline + 100
    assert len(ballast) == 400 * 1024 * 1024


def test_a_worker_above_the_memory_limit_after_a_run_is_replaced_and_the_next_run_works() -> None:
    hog = "sys.hog = b'x' * (300 * 1024 * 1024)\nprint('held')"  # kept by a module: no collection frees it
    with WorkerPool(1, max_memory_mb=200) as workers:
        held = workers.run_sync(script_request(hog))
        after = workers.run_sync(script_request("print('fresh')", run_id=2))

        assert (held.outcome, texts(held)) == (RunOutcome.SUCCEEDED, ["held"])
        assert (after.outcome, texts(after)) == (RunOutcome.SUCCEEDED, ["fresh"])
        assert held.worker_pid is not None and after.worker_pid != held.worker_pid
        assert wait_gone(held.worker_pid)
        assert workers.worker_pids == [after.worker_pid]


def test_runs_batched_behind_a_run_that_retires_its_worker_run_on_a_fresh_one() -> None:
    output = [prop("n", "integer", "output")]
    with WorkerPool(1, max_memory_mb=200) as workers:
        for future in workers.submit_many([script_request("n = 0", run_id=0, properties=output)] * 40):
            future.result()  # the pool has seen that runs are fast: the next ones go in one batch
        batch = [script_request("sys.hog = b'x' * (300 * 1024 * 1024)\nn = 1", run_id=1, properties=output)]
        batch += [script_request(f"n = {i}", run_id=i, properties=output) for i in (2, 3)]
        results = [future.result(timeout=DEADLINE * 4) for future in workers.submit_many(batch)]

    assert [(r.run_id, r.outcome, r.properties.get("n")) for r in results] == [
        (i, RunOutcome.SUCCEEDED, i) for i in (1, 2, 3)
    ]
    assert results[0].worker_pid not in (results[1].worker_pid, results[2].worker_pid)


def test_the_memory_limit_comes_from_settings() -> None:
    assert defaults()["workers.max_memory_mb"] == 1024
    workers = WorkerPool.from_settings(defaults().with_overrides(workers_max_memory_mb=300))
    try:
        assert workers.max_memory_mb == 300
    finally:
        workers.shutdown()
    with pytest.raises(ConfigError) as caught:
        defaults().with_overrides(workers_max_memory_mb=-1)
    assert str(caught.value).endswith("setting 'workers.max_memory_mb' must be 0 (no limit) or more")
