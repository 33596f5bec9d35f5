"""Batches in the worker pool: several runs per message, per-run timeouts, a crash or timeout inside a batch,
and the wire form that sends a task type and a source once per worker."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.waiting import DEADLINE
from xlr_runtime.errors import ScriptError
from xlr_runtime.scripting.build import prop, script_request
from xlr_runtime.scripting.contract import RunOutcome, ScriptRunRequest, ScriptRunResult
from xlr_runtime.scripting.pool import WorkerPool
from xlr_runtime.scripting.wire import Decoder, Keys, encode

PROPERTIES = [prop("name"), prop("count", "integer", "output")]


def request(source: str, run_id: int, *, timeout: float = 30.0) -> ScriptRunRequest:
    return script_request(
        source, run_id=run_id, properties=PROPERTIES, values={"name": f"run {run_id}"}, timeout=timeout
    )


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    with WorkerPool(1, max_log_bytes=100_000) as workers:
        for future in workers.submit_many([request("count = 0", 0) for _ in range(40)]):
            future.result()  # the worker is started and the pool has seen that runs are fast: batches form
        yield workers


def test_a_batch_returns_each_run_its_own_result(pool: WorkerPool) -> None:
    results = [f.result() for f in pool.submit_many([request(f"count = {i}\nprint(name)", i) for i in range(1, 9)])]

    assert [r.run_id for r in results] == list(range(1, 9))
    assert [r.properties["count"] for r in results] == list(range(1, 9))
    assert [[line.text for line in r.log] for r in results] == [[f"run {i}"] for i in range(1, 9)]
    assert len({r.worker_pid for r in results}) == 1


def test_a_crash_inside_a_batch_fails_only_that_run(pool: WorkerPool) -> None:
    sources = ["count = 1", "import os\nos._exit(3)", "count = 3", "count = 4"]
    results = [f.result() for f in pool.submit_many([request(s, i) for i, s in enumerate(sources, 1)])]

    assert [r.outcome for r in results] == [
        RunOutcome.SUCCEEDED,
        RunOutcome.CRASHED,
        RunOutcome.SUCCEEDED,
        RunOutcome.SUCCEEDED,
    ]
    assert results[1].failure is not None and "died: exit code 3" in results[1].failure.message
    assert [r.properties["count"] for r in (results[2], results[3])] == [3, 4]
    assert results[2].worker_pid != results[0].worker_pid  # the rest went to a fresh worker, once


def test_a_timeout_inside_a_batch_fails_only_that_run(pool: WorkerPool) -> None:
    batch = [request("count = 1", 1), request("import time\ntime.sleep(30)", 2, timeout=1.0), request("count = 3", 3)]
    results = [f.result() for f in pool.submit_many(batch)]

    assert [r.outcome for r in results] == [RunOutcome.SUCCEEDED, RunOutcome.TIMED_OUT, RunOutcome.SUCCEEDED]
    assert results[2].properties == {"count": 3}


def test_each_run_of_a_batch_has_its_own_timeout(pool: WorkerPool) -> None:
    # five runs of 0.25 s outlast one timeout of 1 s together; each alone has four times its time
    batch = [request("import time\ntime.sleep(0.25)\ncount = 1", i, timeout=1.0) for i in range(1, 6)]
    started = time.monotonic()
    results = [f.result() for f in pool.submit_many(batch)]

    assert time.monotonic() - started >= 1.0  # longer than one timeout: each run's clock starts with it
    assert [r.outcome for r in results] == [RunOutcome.SUCCEEDED] * 5


def test_a_type_and_a_source_travel_once_per_worker() -> None:
    keys, known, decoder = Keys(), set[str](), Decoder()
    first, second = request("count = 1", 1), request("count = 1", 2)
    second = ScriptRunRequest(**{**second.__dict__, "task_type": first.task_type})

    definitions: dict[str, object] = {}
    payloads = [encode(first, keys, known, definitions), encode(second, keys, known, definitions)]

    assert len(definitions) == 2  # one type, one source, for both requests
    decoder.define(definitions)
    assert [decoder.decode(p) for p in payloads] == [first, second]
    later: dict[str, object] = {}
    encode(second, keys, known, later)
    assert later == {}


def test_a_module_path_travels_once_per_worker() -> None:
    keys, known, decoder = Keys(), set[str](), Decoder()
    path = (("/home/me/.xlr/ext", "auto"), ("/plugins/legacy.jar", "on"))
    first = ScriptRunRequest(**{**request("count = 1", 1).__dict__, "module_path": path})
    second = ScriptRunRequest(**{**request("count = 2", 2).__dict__, "module_path": path})

    definitions: dict[str, object] = {}
    payloads = [encode(first, keys, known, definitions), encode(second, keys, known, definitions)]

    assert [value for key, value in definitions.items() if key.startswith("m:")] == [path]
    decoder.define(definitions)
    assert [decoder.decode(p).module_path for p in payloads] == [path, path]


def test_slow_runs_are_not_batched_behind_each_other(tmp_path: Path) -> None:
    with WorkerPool(2) as pool:
        for future in pool.submit_many([request("import time\ntime.sleep(0.2)", i) for i in range(4)]):
            future.result()  # both workers started; runs are known to take 0.2 s
        # The slow run lasts until the six fast ones have run (up to 60 s): a fast run queued behind it on its
        # worker could not run before it ends, and it would say it saw fewer.
        slow = request(
            f"import os, time\ndeadline = time.monotonic() + 60\n"
            f"while len(os.listdir({str(tmp_path)!r})) < 6 and time.monotonic() < deadline:\n    time.sleep(0.01)\n"
            f"print('saw', len(os.listdir({str(tmp_path)!r})))",
            10,
        )
        fast = [
            request(f"import time\ntime.sleep(0.2)\nopen({str(tmp_path / str(i))!r}, 'w').close()\ncount = 1", 11 + i)
            for i in range(6)
        ]
        results = [f.result() for f in pool.submit_many([slow, *fast])]

    assert all(r.outcome is RunOutcome.SUCCEEDED for r in results)
    assert [line.text for line in results[0].log] == ["saw 6"]  # the other worker took every fast run meanwhile
    assert {r.worker_pid for r in results[1:]} == {results[1].worker_pid} != {results[0].worker_pid}


def test_submit_each_calls_back_once_per_run_with_its_result_crashes_included(pool: WorkerPool) -> None:
    sources = ["count = 1", "import os\nos._exit(3)", "count = 3", "import time\ntime.sleep(30)", "count = 5"]
    batch = [request(s, i, timeout=1.0 if "sleep" in s else 30.0) for i, s in enumerate(sources, 1)]
    results: queue.SimpleQueue[ScriptRunResult] = queue.SimpleQueue()

    pool.submit_each(batch, results.put)
    by_run = {}
    for _ in batch:
        result = results.get(timeout=DEADLINE)
        by_run[result.run_id] = result

    assert {run_id: r.outcome for run_id, r in by_run.items()} == {
        1: RunOutcome.SUCCEEDED,
        2: RunOutcome.CRASHED,
        3: RunOutcome.SUCCEEDED,
        4: RunOutcome.TIMED_OUT,
        5: RunOutcome.SUCCEEDED,
    }
    assert by_run[5].properties == {"count": 5}
    assert pool.run_sync(request("count = 6", 6)).properties == {"count": 6}  # the pool still serves
    assert results.empty()  # no run was called back twice


def test_submit_each_refuses_requests_once_the_pool_is_shut_down() -> None:
    workers = WorkerPool(1)
    workers.shutdown(wait=True)

    with pytest.raises(ScriptError, match="shut down"):
        workers.submit_each([request("count = 1", 1)], lambda result: None)


def test_a_batch_larger_than_a_pipe_reaches_its_worker_whole(pool: WorkerPool) -> None:
    # 32 runs of 20 kB each: one message of about 640 kB, ten times what a pipe holds, written as the worker reads
    big = "x" * 20_000
    runs = [
        script_request("count = len(name)", run_id=i, properties=PROPERTIES, values={"name": f"{big}{i}"}, timeout=30.0)
        for i in range(1, 33)
    ]
    results = [f.result(timeout=DEADLINE) for f in pool.submit_many(runs)]

    assert [r.outcome for r in results] == [RunOutcome.SUCCEEDED] * 32
    assert [r.properties["count"] for r in results] == [len(f"{big}{i}") for i in range(1, 33)]
