"""``xlr run --detach`` creates a task without running it; ``xlr task resume ID`` runs an unfinished task to its
end in the foreground (after Ctrl-C of ``xlr run``, or a detached one), and refuses an ended task or a home that
another process (an ``xlr serve``) holds, by its lock or by its owner row."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from serve_helpers import Serve, wait_for
from task_helpers import XLR_COMMAND

from tests.waiting import DEADLINE
from xlr_runtime.cli import main
from xlr_runtime.home import Home
from xlr_runtime.runtime import Runtime
from xlr_runtime.store import RunState, Store, TaskStatus
from xlr_runtime.store.owners import ProcessIdentity

#: A task type whose script records each start and then waits until a file exists: a script that is surely still
#: running when the test interrupts it, and that ends at once when it runs again after the file is made.
GATE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<synthetic xmlns="http://www.xebialabs.com/deployit/synthetic">
    <type type="gate.Wait" extends="xlrelease.PythonScript">
        <property name="scriptLocation" default="gate/Wait.py" hidden="true"/>
        <property name="trace" category="input"/>
        <property name="gate" category="input"/>
        <property name="passed" category="output" required="false"/>
    </type>
</synthetic>
"""
GATE_PY = """import os, time
with open(trace, "a") as handle:
    handle.write("started\\n")
task.setStatusLine("waiting for the gate")
while not os.path.exists(gate):
    time.sleep(0.05)
passed = "yes"
"""


@pytest.fixture
def gate_plugin(tmp_path: Path) -> Path:
    root = tmp_path / "gate-plugin"
    (root / "gate").mkdir(parents=True)
    (root / "synthetic.xml").write_text(GATE_XML)
    (root / "gate" / "Wait.py").write_text(GATE_PY)
    return root


def xlr_process(home: Home, plugin: Path, *args: str) -> subprocess.Popen[str]:
    command = [*XLR_COMMAND, *args, "--home", str(home.root), "--plugins", str(plugin)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen[str]) -> str:
    """The whole output of ``process`` once it exits (killed if it does not within the deadline)."""
    try:
        output, _ = process.communicate(timeout=DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return output


def starts(trace: Path) -> int:
    return trace.read_text().count("started") if trace.exists() else 0


def gate_inputs(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    trace, gate = tmp_path / "trace.txt", tmp_path / "gate"
    return trace, gate, ["-i", f"trace={trace}", "-i", f"gate={gate}"]


def test_ctrl_c_of_xlr_run_says_how_to_resume_and_resume_runs_the_task_to_its_end(
    home: Home, gate_plugin: Path, tmp_path: Path
) -> None:
    trace, gate, inputs = gate_inputs(tmp_path)
    run = xlr_process(home, gate_plugin, "run", "gate.Wait", *inputs, "--progress", "plain")
    wait_for(lambda: starts(trace) == 1, DEADLINE, "xlr run did not start its script")
    run.send_signal(signal.SIGINT)
    output = finish(run)
    assert run.returncode == 130, output
    assert "Traceback" not in output
    assert output.rstrip().endswith("Interrupted: task 1 stays in_progress; 'xlr task resume 1' runs it on."), output
    with Store.open(home.database) as store:
        [script_run] = store.tasks.runs("1")
        assert (script_run.state, script_run.restarts) == (RunState.DUE, 1)

    gate.touch()
    resume = xlr_process(home, gate_plugin, "task", "resume", "1", "--progress", "plain")
    output = finish(resume)
    assert resume.returncode == 0, output
    lines = output.splitlines()
    assert lines[0] == f"Task 1 (gate.Wait) resumed in {home.root}"
    assert any(line.endswith(" task 1 script gate/Wait.py started") for line in lines), output
    assert any(line.endswith(" task 1 [completed] waiting for the gate") for line in lines), output
    assert lines[-2:] == ["passed = 'yes'", "Task 1 completed"]
    assert starts(trace) == 2  # the interrupted script ran again, once
    with Store.open(home.database) as store:
        [script_run] = store.tasks.runs("1")
        assert (script_run.state, script_run.outcome, script_run.restarts) == (RunState.DONE, "succeeded", 1)
        assert store.owners.all() == []  # the resuming process left no owner behind

    again = CliRunner().invoke(main, ["task", "resume", "1", "--home", str(home.root)])
    assert again.exit_code == 1
    assert again.output == "Error: task 1 has ended (completed): there is nothing to resume\n"


def test_detach_creates_the_task_prints_its_id_and_resume_runs_it(
    home: Home, gate_plugin: Path, tmp_path: Path
) -> None:
    trace, gate, inputs = gate_inputs(tmp_path)
    gate.touch()
    args = ["run", "gate.Wait", *inputs, "--detach", "--home", str(home.root), "--plugins", str(gate_plugin)]
    detached = CliRunner().invoke(main, args)
    assert detached.exit_code == 0, detached.output
    assert detached.stdout == "1\n"  # the id alone, for scripts: id=$(xlr run … --detach)
    assert detached.stderr == (
        f"Task 1 (gate.Wait) created in {home.root}; 'xlr serve' or 'xlr task resume 1' runs it.\n"
    )
    as_json = CliRunner().invoke(main, [*args, "--json"])
    assert (json.loads(as_json.stdout)["id"], json.loads(as_json.stdout)["status"]) == (2, "planned")
    assert starts(trace) == 0
    with Store.open(home.database) as store:
        assert [r.state for r in store.tasks.runs("1")] == [RunState.DUE]

    resumed = CliRunner().invoke(main, ["task", "resume", "1", "--json", "--home", str(home.root), "--plugins",
                                        str(gate_plugin)])  # fmt: skip
    assert resumed.exit_code == 0, resumed.output
    data = json.loads(resumed.stdout)
    assert (data["id"], data["status"], data["properties"]["passed"]) == (1, "completed", "yes")
    assert starts(trace) == 1


def test_resume_of_an_aborted_task_points_to_retry(home: Home, gate_plugin: Path, tmp_path: Path) -> None:
    with Runtime(home, plugin_paths=[gate_plugin]) as runtime:
        task = runtime.create_task("gate.Wait", {"trace": str(tmp_path / "t"), "gate": str(tmp_path / "g")})
        runtime.abort(task.id)
    result = CliRunner().invoke(main, ["task", "resume", task.id, "--home", str(home.root)])
    assert result.exit_code == 1
    assert result.output == (
        "Error: task 1 has ended (aborted): there is nothing to resume\n"
        "Hint: 'xlr task retry 1' runs it again from its first script\n"
    )


def test_resume_is_refused_while_xlr_serve_holds_the_home_and_xlr_run_only_follows(
    home: Home, gate_plugin: Path, tmp_path: Path
) -> None:
    trace, gate, inputs = gate_inputs(tmp_path)
    with Serve(home.root, tmp_path / "serve.log", gate_plugin) as server:
        server.wait_ready()
        detached = xlr_process(home, gate_plugin, "run", "gate.Wait", *inputs, "--detach")
        assert finish(detached).splitlines()[0] == "1"
        wait_for(lambda: starts(trace) == 1, DEADLINE, server.output)  # the server runs it

        resume = xlr_process(home, gate_plugin, "task", "resume", "1")
        output = finish(resume)
        assert resume.returncode == 1, output
        assert output == (
            f"Error: task 1 is not resumed here: home {home.root} is in use by pid {server.process.pid} (xlr serve)\n"
            "Hint: An 'xlr serve' of the home runs the task itself ('xlr task log 1 --follow' follows it); else "
            "wait until that process ends.\n"
        )

        follower = xlr_process(home, gate_plugin, "run", "gate.Wait", *inputs, "--progress", "plain")
        wait_for(lambda: starts(trace) == 2, DEADLINE, server.output)  # task 2, run by the server
        follower.send_signal(signal.SIGINT)
        output = finish(follower)
        assert follower.returncode == 130, output
        assert output.rstrip().endswith(
            "Stopped following task 2 (in_progress): the xlr serve holding the home runs it "
            "('xlr task log 2 --follow' follows it); if none does, 'xlr task resume 2' runs it."
        ), output

        gate.touch()
        wait_for(lambda: _statuses(home) == [TaskStatus.COMPLETED] * 2, DEADLINE, server.output)
        assert server.stop() == 0
    assert starts(trace) == 2  # neither refused command ran a script


def test_resume_is_refused_when_a_live_owner_row_holds_the_home_without_its_lock(
    home: Home, gate_plugin: Path, tmp_path: Path
) -> None:
    """``xlr.lock`` deleted under a live server: its owner row in the store still says the home is held."""
    with Runtime(home, plugin_paths=[gate_plugin]) as runtime:
        task = runtime.create_task("gate.Wait", {"trace": str(tmp_path / "t"), "gate": str(tmp_path / "g")})
        me = ProcessIdentity.current()
        runtime.store.owners.register("elsewhere:1:serve", me, purpose="xlr serve", now=time.time())
    result = CliRunner().invoke(main, ["task", "resume", task.id, "--home", str(home.root), "--plugins",
                                       str(gate_plugin)])  # fmt: skip
    assert result.exit_code == 1, result.output
    assert f"Error: home {home.root} is in use by pid {me.pid} (xlr serve) on {me.host}, although xlr.lock" in (
        result.output
    )
    with Store.open(home.database) as store:
        assert store.tasks.get(task.id).status is TaskStatus.PLANNED
        assert [r.state for r in store.tasks.runs(task.id)] == [RunState.DUE]


def _statuses(home: Home) -> list[TaskStatus]:
    with Store.open(home.database) as store:
        return [t.status for t in sorted(store.tasks.list(), key=lambda t: int(t.id))]


def test_resume_without_the_plugin_of_the_task_type_leaves_the_task_alone(
    home: Home, gate_plugin: Path, tmp_path: Path
) -> None:
    with Runtime(home, plugin_paths=[gate_plugin]) as runtime:
        task = runtime.create_task("gate.Wait", {"trace": str(tmp_path / "t"), "gate": str(tmp_path / "g")})
    result = CliRunner().invoke(main, ["task", "resume", task.id, "--home", str(home.root)])
    assert result.exit_code == 1
    assert result.output == (
        "Error: unknown type 'gate.Wait'\n"
        "Hint: Task 1 is unchanged: give its plugin with --plugins (env XLR_PLUGIN_PATH).\n"
    )
    with Store.open(home.database) as store:
        assert store.tasks.get(task.id).status is TaskStatus.PLANNED
