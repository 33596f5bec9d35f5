"""The ``parallel`` workflow strategy with real processes: every step starts at once (proved by steps that each
wait for a marker file the other writes), node steps still go to every node, a failure never stops the steps
already running, keepgoing and error handlers, and a ``kill -9`` in the middle resumes only the unfinished
steps."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.rundeck_helpers import SERVER, Harness, job_xml
from tests.waiting import DEADLINE, joined, wait_until
from xlr_runtime.cli import main
from xlr_runtime.store.executions import ExecutionStatus

#: How many 10 ms rounds (60 s at least) a step waits for a marker file before giving up: a generous bound that
#: only a failing test reaches, never the proof.
ROUNDS = 6000


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    yield h
    h.close()


def exec_(command: str, extra: str = "") -> str:
    return f"<command>{extra}<exec>{command}</exec></command>"


def wait_for(path: Path) -> str:
    """Shell text that waits (bounded) until ``path`` exists."""
    return f"i=0; while [ ! -f {path} ] &amp;&amp; [ $i -lt {ROUNDS} ]; do sleep 0.01; i=$((i+1)); done"


def parallel(steps: str, *, keepgoing: bool = False, extra: str = "") -> str:
    return job_xml(steps, extra=extra).replace(
        "<sequence keepgoing='false' strategy='node-first' >",
        f"<sequence keepgoing='{str(keepgoing).lower()}' strategy='parallel'>",
    )


def test_all_steps_run_at_the_same_time(harness: Harness, tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    # Each step writes its marker, then waits for the other's: run one after the other, the first would give up.
    xml = parallel(
        exec_(f"touch {one}; {wait_for(two)}; test -f {two} &amp;&amp; echo one saw two")
        + exec_(f"touch {two}; {wait_for(one)}; test -f {one} &amp;&amp; echo two saw one")
    )
    execution = harness.run(xml)
    assert execution.status == ExecutionStatus.SUCCEEDED, harness.output(execution.id, levels=("ERROR",))
    assert sorted(harness.output(execution.id)) == ["one saw two", "two saw one"]
    assert execution.succeeded_nodes == [SERVER]


def test_log_lines_of_parallel_steps_carry_their_step_numbers(harness: Harness, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    # Step 2 runs entirely while step 1 is in the middle (between its two lines).
    xml = parallel(
        exec_(f"echo 1-first; touch {a}; {wait_for(b)}; test -f {b} &amp;&amp; echo 1-second")
        + exec_(f"{wait_for(a)}; test -f {a} &amp;&amp; echo 2-only; touch {b}")
    )
    execution = harness.run(xml)
    assert execution.status == ExecutionStatus.SUCCEEDED
    lines = [(line.step, line.text) for line in harness.store.executions.log(execution.id) if line.level == "NORMAL"]
    assert sorted(lines) == [("1", "1-first"), ("1", "1-second"), ("2", "2-only")]
    assert [text for step, text in lines if step == "1"] == ["1-first", "1-second"]


def test_a_job_reference_runs_beside_the_other_steps(harness: Harness, tmp_path: Path) -> None:
    child, other = tmp_path / "child", tmp_path / "other"
    harness.add(job_xml(exec_(f"touch {child}; {wait_for(other)}; test -f {other} &amp;&amp; echo child saw other"),
                        name="child"))  # fmt: skip
    xml = parallel("<command><jobref name='child'/></command>" + exec_(f"{wait_for(child)}; touch {other}"))
    execution = harness.run(xml)
    assert execution.status == ExecutionStatus.SUCCEEDED, harness.output(execution.id, levels=("ERROR",))
    assert harness.output(execution.id) == ["child saw other"]


def test_node_steps_go_to_every_node(harness: Harness, tmp_path: Path) -> None:
    resources = tmp_path / "projects" / "P" / "resources"
    resources.mkdir(parents=True)
    (resources / "nodes.yaml").write_text(
        "n1: {hostname: h1, node-executor: local}\nn2: {hostname: h2, node-executor: local}\n"
    )
    xml = parallel(
        exec_("echo first on ${node.name}") + exec_("echo second on ${node.name}"),
        extra="<dispatch><threadcount>1</threadcount></dispatch><nodefilters><filter>n1 n2</filter></nodefilters>",
    )
    execution = harness.run(xml)
    assert execution.status == ExecutionStatus.SUCCEEDED
    output = harness.output(execution.id)
    assert sorted(output) == ["first on n1", "first on n2", "second on n1", "second on n2"]
    assert [line for line in output if line.startswith("first")] == ["first on n1", "first on n2"]
    assert execution.succeeded_nodes == ["n1", "n2"]


@pytest.mark.parametrize("keepgoing", [False, True])
def test_a_failure_never_stops_the_steps_already_running(harness: Harness, tmp_path: Path, keepgoing: bool) -> None:
    failed = tmp_path / "failed"
    # Step 2 waits until step 1 is about to fail, then carries on to its end: Rundeck lets running steps finish.
    xml = parallel(
        exec_(f"touch {failed}; exit 3") + exec_(f"{wait_for(failed)}; sleep 0.2; echo two finished"),
        keepgoing=keepgoing,
    )
    execution = harness.run(xml)
    assert execution.status == ExecutionStatus.FAILED
    assert execution.failure == "Step 1 failed: Result: 3"
    assert harness.output(execution.id) == ["two finished"]
    assert harness.output(execution.id, levels=("ERROR",)) == [
        "Step 1 failed: NonZeroResultCode: Result: 3",
        "Execution failed",
    ]
    assert execution.failed_nodes == [SERVER]


@pytest.mark.parametrize(
    ("keepgoing", "keepgoing_on_success", "status"),
    [
        (True, False, ExecutionStatus.SUCCEEDED),
        (False, True, ExecutionStatus.SUCCEEDED),
        (False, False, ExecutionStatus.FAILED),
    ],
)
def test_an_error_handler_runs_in_its_steps_thread_with_rundecks_table(
    harness: Harness, keepgoing: bool, keepgoing_on_success: bool, status: ExecutionStatus
) -> None:
    handler = (
        f"<errorhandler keepgoingOnSuccess='{str(keepgoing_on_success).lower()}'>"
        "<exec>echo handled ${result.resultCode}</exec></errorhandler>"
    )
    xml = parallel(f"<command>{handler}<exec>exit 4</exec></command>" + exec_("echo other step"), keepgoing=keepgoing)
    execution = harness.run(xml)
    assert execution.status == status
    assert sorted(harness.output(execution.id)) == ["handled 4", "other step"]


def test_a_failed_node_stops_only_its_own_steps_dispatch(harness: Harness, tmp_path: Path) -> None:
    resources = tmp_path / "projects" / "P" / "resources"
    resources.mkdir(parents=True)
    (resources / "nodes.yaml").write_text(
        "n1: {hostname: h1, node-executor: local}\nn2: {hostname: h2, node-executor: local}\n"
    )
    # Step 1 fails on n1, so (dispatch keepgoing false) it never starts on n2; step 2 still runs on both nodes.
    xml = parallel(
        exec_("test ${node.name} = n2") + exec_("echo second on ${node.name}"),
        extra="<nodefilters><filter>n1 n2</filter></nodefilters>",
    )
    execution = harness.run(xml)
    assert execution.status == ExecutionStatus.FAILED
    assert harness.output(execution.id) == ["second on n1", "second on n2"]
    assert execution.failed_nodes == ["n1"]


def test_an_abort_stops_every_running_step(harness: Harness, tmp_path: Path) -> None:
    never = tmp_path / "never"
    xml = parallel(exec_(f"echo one; {wait_for(never)}; echo one ended") + exec_(f"echo two; {wait_for(never)}"))
    execution = harness.service.start("P", harness.add(xml))
    worker = threading.Thread(target=harness.finish, args=(execution.id,))
    worker.start()
    wait_until(lambda: sorted(harness.output(execution.id)) == ["one", "two"], lambda: harness.output(execution.id))
    harness.service.abort(execution.id)
    joined(worker, "the aborted execution did not end")
    ended = harness.store.executions.get(execution.id)
    assert (ended.status, ended.failure) == (ExecutionStatus.ABORTED, "Aborted by user")
    assert sorted(harness.output(execution.id)) == ["one", "two"]


# -- kill -9 and resume ---------------------------------------------------------------------------------------------


def _cursor(database: Path, execution_id: int) -> dict[str, object]:
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT cursor FROM executions WHERE id = ?", (execution_id,)).fetchone()
    return json.loads(row[0]) if row else {}


def test_kill_9_resumes_only_the_steps_that_had_not_finished(tmp_path: Path) -> None:
    home, jobs, runs = tmp_path / "home", tmp_path / "jobs.xml", tmp_path / "runs"
    started, release = tmp_path / "started", tmp_path / "release"
    second = (
        f"echo two &gt;&gt; {runs}; if [ -f {started} ]; then echo two resumed; "
        f"else touch {started}; {wait_for(release)}; fi"
    )
    jobs.write_text(parallel(exec_(f"echo one &gt;&gt; {runs}; echo one") + exec_(second)), encoding="utf-8")
    env = {**os.environ, "XLR_HOME": str(home)}
    xlr = [sys.executable, "-c", "from xlr_runtime.cli import main; main()"]
    loaded = subprocess.run([*xlr, "jobs", "load", "-p", "P", "-f", str(jobs)], env=env, capture_output=True)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    runner = subprocess.Popen(
        [*xlr, "jobs", "run", "-p", "P", "-j", "job"], env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:

        def at_step_2() -> bool:
            assert runner.poll() is None, "the runner ended before step 2"
            return started.exists() and bool(_cursor(home / "xlr.db", 1).get("branches", {}).get("0", {}).get("done"))

        wait_until(at_step_2, "the execution did not reach step 2")
        os.killpg(runner.pid, signal.SIGKILL)
        runner.wait(DEADLINE)
    finally:
        release.touch()  # the orphaned step 2 of the killed runtime ends too
    result = CliRunner().invoke(main, ["execution", "resume", "1", "--follow"], env={"XLR_HOME": str(home)})
    assert result.exit_code == 0, result.output
    assert sorted(runs.read_text().splitlines()) == ["one", "two", "two"]  # step 1 finished: not run again
    assert "two resumed" in result.output
