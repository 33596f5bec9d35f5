"""The local part of XL Release's API (``releaseApi``, ``taskApi``, ``getCurrentRelease()``,
``getCurrentTask()``, ``XLReleaseServiceHolder``), run through real worker processes: release variables are the
task's ``releaseVariables`` and are kept with it, ``getTask`` shows the task's values with passwords masked,
comments go to the log, anything else fails with one line at the script's line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from xlr_runtime.clock import VirtualClock
from xlr_runtime.compat.script_globals import script_global_names
from xlr_runtime.home import Home
from xlr_runtime.runtime import Runtime
from xlr_runtime.scripting.build import prop, script_request
from xlr_runtime.scripting.contract import RunOutcome, ScriptRunResult
from xlr_runtime.scripting.pool import WorkerPool
from xlr_runtime.store import TaskStatus
from xlr_runtime.typesystem.script_check import inspect_script

RELEASE = "Applications/Release-task-1"
START = {"releaseVariables": {"version": "1.0", "count": 1}}


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    with WorkerPool(1) as workers:
        yield workers


def run(pool: WorkerPool, source: str, **kwargs: object) -> ScriptRunResult:
    kwargs.setdefault("variables", START)
    return pool.run_sync(script_request(source, **kwargs))  # type: ignore[arg-type]


def log(result: ScriptRunResult) -> list[str]:
    return [line.text for line in result.log]


def test_variables_are_read_updated_created_and_deleted_through_release_api(pool: WorkerPool) -> None:
    source = (
        "values = releaseApi.getVariableValues(release.id)\n"
        "print(sorted(values.items()))\n"
        "for variable in releaseApi.getVariables(getCurrentRelease().getId()):\n"
        "    print('%s %s %s' % (variable.getKey(), variable.value, variable.id))\n"
        "    if variable.key == 'version':\n"
        "        variable.setValue('2.0')\n"
        "        releaseApi.updateVariable(variable)\n"
        "    else:\n"
        "        releaseApi.deleteVariable(variable.id)\n"
        "from com.xebialabs.xlrelease.api.v1.forms import Variable\n"
        "created = releaseApi.createVariable(release.id, Variable('${build}', 42))\n"
        "print('%s %s' % (created.getKey(), releaseVariables['build']))\n"
    )
    result = run(pool, source)

    assert result.outcome is RunOutcome.SUCCEEDED, result.failure
    assert log(result) == [
        "[('${count}', 1), ('${version}', '1.0')]",
        f"version 1.0 {RELEASE}/Variable/version",
        f"count 1 {RELEASE}/Variable/count",
        "build 42",
    ]
    assert result.variables is not None
    assert result.variables["releaseVariables"] == {"version": "2.0", "build": 42}


def test_get_task_shows_the_tasks_values_with_passwords_masked(pool: WorkerPool) -> None:
    source = (
        "task.setStatusLine('polling')\n"
        "current = taskApi.getTask(task.id)\n"
        "script = current.pythonScript\n"
        "print('%s|%s|%s|%s|%s' % (current.id, current.getTitle(), current.getTaskType(), current.getStatus(),\n"
        "                          current.getStatusLine()))\n"
        "print('%s %s %s' % (script.getProperty('user'), script.password, script.getPassword()))\n"
        "print(getCurrentTask().getId() == task.id)\n"
    )
    result = run(
        pool,
        source,
        properties=[prop("user"), prop("password", password=True)],
        values={"user": "bob", "password": "hunter2-canary"},
        title="Deploy",
    )

    assert result.outcome is RunOutcome.SUCCEEDED, result.failure
    assert log(result) == [
        "task-1|Deploy|test.Script|IN_PROGRESS|polling",
        "bob ******** ********",
        "True",
    ]


def test_comments_go_to_the_task_log(pool: WorkerPool) -> None:
    source = (
        "from com.xebialabs.xlrelease.domain import Comment\n"
        "taskApi.commentTask(task.id, Comment('Build 42 started'))\n"
        "comment = Comment()\n"
        "comment.setComment('as text too')\n"
        "taskApi.commentTask(task.getId(), comment.getComment())\n"
    )
    result = run(pool, source)

    assert result.outcome is RunOutcome.SUCCEEDED, result.failure
    assert log(result) == ["Comment: Build 42 started", "Comment: as text too"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("releaseApi.createRelease('x')", "releaseApi.createRelease is not available in xlr-runtime"),
        ("taskApi.assignTask(task.id, 'me')", "taskApi.assignTask is not available in xlr-runtime"),
        (
            "XLReleaseServiceHolder.getRepositoryService().update(task.pythonScript)",
            "XLReleaseServiceHolder.getRepositoryService is not available in xlr-runtime",
        ),
        (
            "releaseApi.getVariables('Release42')",
            "releaseApi.getVariables: release 'Release42' is not the current release "
            f"'{RELEASE}' (xlr-runtime knows only the running task's release)",
        ),
    ],
)
def test_an_unavailable_call_fails_with_one_line_at_the_script_line(pool: WorkerPool, line: str, message: str) -> None:
    source = f"import com.xebialabs.xlrelease.api.XLReleaseServiceHolder as XLReleaseServiceHolder\nx = 1\n{line}\n"
    result = run(pool, source)

    assert result.outcome is RunOutcome.FAILED
    assert result.failure is not None
    kind = "UnsupportedApiError" if "not available" in message else "ScriptError"
    assert result.failure.message == f"/plugin/test/Script.py:3: {kind}: {message}"


def test_the_service_holder_import_forms_hand_out_the_same_apis(pool: WorkerPool) -> None:
    source = (
        "from com.xebialabs.xlrelease.api.XLReleaseServiceHolder import getReleaseApi, getTaskApi\n"
        "from com.xebialabs.xlrelease.api import XLReleaseServiceHolder\n"
        "print(getReleaseApi() is releaseApi and XLReleaseServiceHolder.getTaskApi() is taskApi)\n"
        "print(getTaskApi().getTask(task.id).title)\n"
    )
    result = run(pool, source)

    assert result.outcome is RunOutcome.SUCCEEDED, result.failure
    assert log(result) == ["True", "Test task"]


def test_a_python_2_script_uses_the_api_as_in_jython(pool: WorkerPool) -> None:
    source = (
        "import com.xebialabs.xlrelease.api.XLReleaseServiceHolder as XLReleaseServiceHolder\n"
        "from com.xebialabs.xlrelease.api.v1.forms import Variable\n"
        "api = XLReleaseServiceHolder.getReleaseApi()\n"
        "for v in api.getVariables(release.id):\n"
        "    if v.key == 'count':\n"
        "        v.value = v.value + 1\n"
        "        api.updateVariable(v.id, v)\n"
        "var = Variable()\n"
        "var.key = 'tag'\n"
        "var.setValue(u'v%s' % releaseVariables['version'])\n"
        "api.createVariable(release.id, var)\n"
        "print 'count is %d' % releaseVariables['count']\n"
    )
    result = run(pool, source)

    assert result.outcome is RunOutcome.SUCCEEDED, result.failure
    assert log(result) == ["count is 2"]
    assert result.variables is not None
    assert result.variables["releaseVariables"] == {"version": "1.0", "count": 2, "tag": "v1.0"}


def test_a_failed_run_keeps_no_variable_it_set_through_the_api(pool: WorkerPool) -> None:
    result = run(pool, "v = releaseApi.getVariables(release.id)[0]\nv.value = 'x'\nreleaseApi.updateVariable(v)\n1/0\n")

    assert (result.outcome, result.variables) == (RunOutcome.FAILED, None)


SYNTHETIC = """<?xml version="1.0" encoding="UTF-8"?>
<synthetic xmlns="http://www.xebialabs.com/deployit/synthetic">
    <type type="api.Chain" extends="xlrelease.PythonScript">
        <property name="scriptLocation" default="api/First.py" hidden="true"/>
        <property name="seen" category="output" required="false"/>
    </type>
</synthetic>
"""
FIRST = (
    "from com.xebialabs.xlrelease.api.v1.forms import Variable\n"
    "releaseApi.createVariable(release.id, Variable('build', 42))\n"
    "taskApi.commentTask(task.id, 'created build')\n"
    "task.schedule('api/Second.py', 5)\n"
)
SECOND = (
    "values = getCurrentRelease().getVariableValues()\n"
    "variable = releaseApi.getVariables(release.id)[0]\n"
    "variable.setValue(values['${build}'] + 1)\n"
    "releaseApi.updateVariable(variable)\n"
    "seen = '%s=%s' % (variable.getKey(), releaseVariables['build'])\n"
)


def test_variables_created_through_the_api_are_kept_and_seen_by_the_next_script(home: Home, tmp_path: Path) -> None:
    plugin = tmp_path / "api-plugin"
    (plugin / "api").mkdir(parents=True)
    (plugin / "synthetic.xml").write_text(SYNTHETIC)
    (plugin / "api" / "First.py").write_text(FIRST)
    (plugin / "api" / "Second.py").write_text(SECOND)
    with Runtime(home, plugin_paths=[plugin], clock=VirtualClock()) as runtime:
        task = runtime.drive(runtime.create_task("api.Chain", {}).id)

    assert (task.status, task.properties["seen"]) == (TaskStatus.COMPLETED, "build=43")
    assert task.variables is not None
    assert task.variables["releaseVariables"] == {"build": 43}


def test_xlr_check_does_not_report_the_provided_api_names() -> None:
    source = (
        "print releaseApi, taskApi, release.id, getCurrentRelease(), getCurrentTask()\n"
        "from com.xebialabs.xlrelease.api.XLReleaseServiceHolder import getReleaseApi\n"
        "from com.xebialabs.xlrelease.api.v1.forms import Variable\n"
        "from com.xebialabs.xlrelease.domain import Comment, Release\n"
        "print phaseApi\n"
    )
    report = inspect_script(source, "/p/Run.py", names=script_global_names())

    assert report.undefined_names == [(5, "phaseApi")]
    assert report.unsupported_imports == [(4, "com.xebialabs.xlrelease.domain.Release")]
