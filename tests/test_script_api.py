"""The objects scripts see: CI objects with Jython bean sugar, ``task`` and ``task.pythonScript``."""

from __future__ import annotations

from typing import Any

import pytest

from xlr_runtime.compat.beans import bean_property
from xlr_runtime.errors import ScriptError
from xlr_runtime.scripting.api import ConfigurationItem, ScriptTask, TypeName
from xlr_runtime.scripting.build import prop, task_type
from xlr_runtime.scripting.contract import CiValue, ScheduleRequest
from xlr_runtime.typesystem.kinds import PropertyKind, coerce


@pytest.fixture
def server() -> ConfigurationItem:
    return ConfigurationItem(
        CiValue(
            "Jenkins",
            "jenkins.Server",
            {"url": "http://j", "username": "u", "proxyPort": 8080, "secure": True},
            ("password",),
        )
    )


def make_task(namespace: dict[str, Any] | None = None) -> ScriptTask:
    definition = task_type("jenkins.Build", [prop("jobName"), prop("buildNumber", "integer", "output")])
    ns = {"jobName": "a", "buildNumber": None} if namespace is None else namespace
    return ScriptTask("Release1/Phase1/Task1", "Build it", definition, ns)


@pytest.mark.parametrize(
    ("name", "prop_name"),
    [
        ("getUrl", "url"),
        ("isSecure", "secure"),
        ("getX", "x"),
        ("get", None),
        ("getter", None),
        ("url", None),
        ("isx", None),
    ],
)
def test_bean_property_names(name: str, prop_name: str | None) -> None:
    assert bean_property(name) == prop_name


def test_ci_reads_in_the_three_styles(server: ConfigurationItem) -> None:
    assert server["url"] == server.url == server.getUrl() == "http://j"
    assert server["proxyPort"] == server.getProxyPort() == 8080
    assert server.isSecure() is True
    assert server.ci_name == str(server) == "Jenkins"
    assert server.ci_type == server.getType() == "jenkins.Server"
    assert server["title"] == server.title == server.getTitle() == "Jenkins"
    assert repr(server) == "<jenkins.Server 'Jenkins'>"


def test_ci_missing_properties(server: ConfigurationItem) -> None:
    assert server["proxyHost"] is None
    assert server.get("proxyHost", "none") == "none"
    assert "proxyHost" not in server
    assert "url" in server
    assert sorted(server.keys()) == ["proxyPort", "secure", "url", "username"]
    with pytest.raises(AttributeError) as caught:
        server.getProxyHost()
    assert str(caught.value) == "CI 'Jenkins' (jenkins.Server) has no property 'getProxyHost'"


def test_ci_is_read_only_and_coerces_to_its_name(server: ConfigurationItem) -> None:
    with pytest.raises(AttributeError) as caught:
        server.url = "http://other"
    assert str(caught.value) == "CI 'Jenkins' is read-only in scripts"
    assert coerce("server", PropertyKind.CI, server) == "Jenkins"
    assert coerce("servers", PropertyKind.LIST_OF_CI, [server, server]) == ["Jenkins", "Jenkins"]


def test_ci_from_values_and_equality() -> None:
    one = ConfigurationItem.from_values("A", "x.Server", {"url": "u"})
    assert one == ConfigurationItem.from_values("A", "x.Server", {"url": "u"})
    assert len({one, ConfigurationItem.from_values("A", "x.Server", {"url": "u"})}) == 1


def test_task_identity_in_both_styles() -> None:
    task = make_task()

    assert task.id == task.getId() == "Release1/Phase1/Task1"
    assert task.title == task.getTitle() == "Build it"
    assert task.getPythonScript() is task.pythonScript


def test_task_type_serves_the_dispatcher_pattern() -> None:
    kind = make_task().getTaskType()

    assert str(kind) == "jenkins.Build"
    assert str(kind).lower().replace(".", "_") == "jenkins_build"
    assert isinstance(kind, TypeName)
    assert (kind.prefix, kind.name, kind.getPrefix(), kind.getName()) == ("jenkins", "Build", "jenkins", "Build")


def test_schedule_records_the_last_call() -> None:
    task = make_task()
    task.schedule("jenkins/Build.wait-for-queue.py")
    assert task.schedule_request == ScheduleRequest("jenkins/Build.wait-for-queue.py", None)
    task.schedule("jenkins/Build.wait-for-build.py", 3)
    assert task.schedule_request == ScheduleRequest("jenkins/Build.wait-for-build.py", 3.0)
    task.schedule("jenkins/Build.wait-for-build.py", "2.5")
    assert task.schedule_request == ScheduleRequest("jenkins/Build.wait-for-build.py", 2.5)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("",), "task.schedule() needs a script path, got ''"),
        ((None,), "task.schedule() needs a script path, got None"),
        (("a.py", "soon"), "task.schedule() interval must be a number of seconds, got 'soon'"),
        (("a.py", -1), "task.schedule() interval must not be negative, got -1"),
    ],
)
def test_schedule_rejects_bad_arguments(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ScriptError) as caught:
        make_task().schedule(*args)
    assert str(caught.value) == message


def test_status_line() -> None:
    task = make_task()
    task.setStatusLine(["Running build #", 3])
    assert task.status_line == task.getStatusLine() == "['Running build #', 3]"
    task.setStatusLine("Build queued")
    assert task.status_line == "Build queued"


def test_python_script_reads_and_writes_the_script_globals() -> None:
    namespace: dict[str, Any] = {"jobName": "a", "buildNumber": None}
    script = make_task(namespace).pythonScript

    assert script.getProperty("jobName") == script.jobName == script.getJobName() == "a"
    script.setProperty("buildNumber", 7)
    assert namespace["buildNumber"] == 7
    assert script.set_names == ["buildNumber"]
    assert script.hasProperty("jobName") and not script.hasProperty("nope")
    assert str(script.getType()) == "jenkins.Build"


def test_python_script_unknown_properties() -> None:
    script = make_task().pythonScript

    with pytest.raises(ScriptError) as caught:
        script.setProperty("nope", 1)
    assert str(caught.value) == "jenkins.Build has no property 'nope'"
    with pytest.raises(AttributeError):
        script.nope  # noqa: B018
