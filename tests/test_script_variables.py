"""releaseVariables / globalVariables / folderVariables: what a script changes comes back in the result, to be
stored with the task (in-process and through a real worker process)."""

from __future__ import annotations

import pytest

from xlr_runtime.scripting.build import prop, script_request
from xlr_runtime.scripting.contract import RunOutcome, ScriptRunResult
from xlr_runtime.scripting.execution import run_script
from xlr_runtime.scripting.pool import WorkerPool

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
