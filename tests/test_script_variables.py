"""releaseVariables / globalVariables / folderVariables: what a script changes comes back in the result, to be
stored with the task (in-process and through a real worker process)."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlr_runtime.clock import VirtualClock
from xlr_runtime.home import Home
from xlr_runtime.runtime import Runtime
from xlr_runtime.scripting.build import prop, script_request
from xlr_runtime.scripting.contract import RunOutcome, ScriptRunResult
from xlr_runtime.scripting.execution import run_script
from xlr_runtime.scripting.pool import WorkerPool
from xlr_runtime.store import TaskStatus

START = {"releaseVariables": {"version": "1.0", "count": 1}, "globalVariables": {"env": "test"}}


def run(source: str, **kwargs: object) -> ScriptRunResult:
    kwargs.setdefault("variables", START)
    return run_script(script_request(source, **kwargs))  # type: ignore[arg-type]


def test_a_script_that_changes_no_variable_returns_none() -> None:
    result = run("x = releaseVariables['version'] + globalVariables['env']")

    assert (result.outcome, result.variables) == (RunOutcome.SUCCEEDED, None)


def test_changed_variables_come_back_as_all_three_maps() -> None:
    source = (
        "releaseVariables['version'] = '2.0'\n"
        "releaseVariables['tags'] = ['a', 'b']\n"
        "del globalVariables['env']\n"
        "folderVariables.update({'team': {'name': 'x', 'size': 3}})\n"
    )

    assert run(source).variables == {
        "releaseVariables": {"version": "2.0", "count": 1, "tags": ["a", "b"]},
        "globalVariables": {},
        "folderVariables": {"team": {"name": "x", "size": 3}},
    }


def test_a_failed_run_returns_no_variables() -> None:
    result = run("releaseVariables['version'] = '2.0'\nsys.exit(1)")

    assert (result.outcome, result.variables) == (RunOutcome.FAILED, None)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "releaseVariables['when'] = object()",
            "releaseVariables['when']: a value of type object cannot be stored as a variable "
            "(use text, numbers, booleans, None, lists or dicts)",
        ),
        (
            "folderVariables[1] = 'x'",
            "folderVariables[1]: a value of type str cannot be stored as a variable "
            "(use text, numbers, booleans, None, lists or dicts)",
        ),
        ("globalVariables = ['x']", "globalVariables must stay a dict, the script made it a list"),
    ],
)
def test_a_value_that_cannot_be_stored_fails_the_run_clearly(source: str, message: str) -> None:
    result = run(source)

    assert (result.outcome, result.variables) == (RunOutcome.FAILED, None)
    assert result.failure is not None
    assert (result.failure.kind, result.failure.message) == ("ScriptError", message)


def test_secrets_in_variables_are_masked() -> None:
    result = run(
        "releaseVariables['leak'] = 'token ' + password",
        properties=[prop("password", password=True)],
        values={"password": "hunter2-canary"},
    )

    assert result.variables is not None
    assert result.variables["releaseVariables"]["leak"] == "token ********"


def test_changed_variables_travel_back_from_a_worker_process() -> None:
    with WorkerPool(1) as pool:
        result = pool.run_sync(script_request("releaseVariables['build'] = 42", variables=START))

    assert result.outcome is RunOutcome.SUCCEEDED
    assert result.variables is not None
    assert result.variables["releaseVariables"] == {"version": "1.0", "count": 1, "build": 42}


VARIABLES_SYNTHETIC = """<?xml version="1.0" encoding="UTF-8"?>
<synthetic xmlns="http://www.xebialabs.com/deployit/synthetic">
    <type type="vars.Chain" extends="xlrelease.PythonScript">
        <property name="scriptLocation" default="vars/First.py" hidden="true"/>
        <property name="seen" category="output" required="false"/>
    </type>
</synthetic>
"""


def test_variables_a_script_changes_are_stored_with_the_task_and_seen_by_its_next_script(
    home: Home, tmp_path: Path
) -> None:
    plugin = tmp_path / "vars-plugin"
    (plugin / "vars").mkdir(parents=True)
    (plugin / "synthetic.xml").write_text(VARIABLES_SYNTHETIC)
    (plugin / "vars" / "First.py").write_text(
        "releaseVariables['build'] = 42\nglobalVariables['env'] = 'prod'\ntask.schedule('vars/Second.py', 5)\n"
    )
    (plugin / "vars" / "Second.py").write_text("seen = '%s %s' % (releaseVariables['build'], globalVariables['env'])\n")
    with Runtime(home, plugin_paths=[plugin], clock=VirtualClock()) as runtime:
        task = runtime.drive(runtime.create_task("vars.Chain", {}).id)

    assert (task.status, task.properties["seen"]) == (TaskStatus.COMPLETED, "42 prod")
    assert task.variables == {
        "releaseVariables": {"build": 42},
        "globalVariables": {"env": "prod"},
        "folderVariables": {},
    }
