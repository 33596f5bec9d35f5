"""The bundled jenkins.Build scripts, run one by one through the real worker pool against the Jenkins test server.

Each test drives the chain as the scheduler would: run the script, carry its output and script properties into
the next request, follow ``task.schedule()``, until a run ends without scheduling. No real time passes: the
test server keeps items queued and builds running for a number of polls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from script_chain import ScriptChain, run_script_chain

from xlr_runtime.plugins import build_plugin_manager
from xlr_runtime.scripting.contract import CiValue, RunOutcome, ScriptRunResult
from xlr_runtime.scripting.pool import WorkerPool
from xlr_runtime.testing.jenkins import JenkinsServer, Trigger
from xlr_runtime.typesystem.registry import TypeRegistry, load_registry

BUILD = "jenkins/Build.py"
WAIT_FOR_QUEUE = "jenkins/Build.wait-for-queue.py"
WAIT_FOR_BUILD = "jenkins/Build.wait-for-build.py"


@pytest.fixture(scope="module")
def registry() -> TypeRegistry:
    return load_registry(pm=build_plugin_manager(load_installed=False))


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    with WorkerPool(2) as workers:
        yield workers


def run_build(
    pool: WorkerPool,
    registry: TypeRegistry,
    server: JenkinsServer,
    *,
    after: Callable[[int, str, ScriptRunResult], None] | None = None,
    start: str | None = None,
    ci_credentials: tuple[str, str] | None = None,
    max_runs: int = 30,
    **inputs: Any,
) -> ScriptChain:
    """Run a jenkins.Build task with ``inputs`` to its end; ``after(n, path, result)`` runs after each script.

    ``start`` is the first script (default: the type's script, Build.py)."""
    ci_values: dict[str, Any] = {"url": server.url, "authenticationMethod": "Basic", "pollInterval": 5}
    if ci_credentials:
        ci_values.update(username=ci_credentials[0], password=ci_credentials[1])
    ci = CiValue("jenkins", "jenkins.Server", ci_values, ("password",))
    return run_script_chain(
        pool,
        registry,
        "jenkins.Build",
        {"jenkinsServer": ci},
        {"jenkinsServer": "jenkins", **inputs},
        max_runs=max_runs,
        after=after,
        start=start,
    )


def test_a_successful_build_goes_queued_running_completed(pool: WorkerPool, registry: TypeRegistry) -> None:
    with JenkinsServer() as jenkins:
        jenkins.add_job("hello", queue_polls=2, build_polls=2, next_build_number=7)
        chain = run_build(pool, registry, jenkins, jobName="hello")
    assert chain.scripts == [
        BUILD,
        WAIT_FOR_QUEUE,
        WAIT_FOR_QUEUE,
        WAIT_FOR_QUEUE,
        WAIT_FOR_BUILD,
        WAIT_FOR_BUILD,
        WAIT_FOR_BUILD,
    ]
    assert chain.last.outcome is RunOutcome.SUCCEEDED, chain.log
    assert chain.status_lines == [
        "Build queued",
        "Build queued",
        "Build queued",
        "Running build #7",
        "Running build #7",
        "Running build #7",
        "Build #7: SUCCESS",
    ]
    assert (chain.properties["buildNumber"], chain.properties["buildStatus"]) == ("7", "SUCCESS")
    assert chain.properties["location"] == "/queue/item/1/"
    assert all(r.schedule is None or r.schedule.interval is None for _, r in chain.results)
    build_url = f"{jenkins.url}/job/hello/7/"
    assert f"Started [hello #7]({build_url}) - view [Console Output]({build_url}console)" in chain.log
    assert "Finished: SUCCESS" in chain.log
    assert jenkins.triggers == [Trigger("hello", "build", {}, None, 1)]


def test_a_failed_build_fails_the_task_and_keeps_its_status(pool: WorkerPool, registry: TypeRegistry) -> None:
    with JenkinsServer() as jenkins:
        jenkins.add_job("broken", result="FAILURE")
        chain = run_build(pool, registry, jenkins, jobName="broken")
    assert chain.scripts == [BUILD, WAIT_FOR_QUEUE, WAIT_FOR_BUILD]
    assert chain.last.outcome is RunOutcome.FAILED
    assert chain.failure == "Build #1 of broken finished with FAILURE"
    assert chain.last.status_line == "Build #1: FAILURE"
    assert (chain.properties["buildNumber"], chain.properties["buildStatus"]) == ("1", "FAILURE")
    assert "Finished: FAILURE" in chain.log
    assert f"view [Console Output]({jenkins.url}/job/broken/1/console)" in chain.log


def test_an_unknown_job_fails_at_once(pool: WorkerPool, registry: TypeRegistry) -> None:
    with JenkinsServer() as jenkins:
        chain = run_build(pool, registry, jenkins, jobName="nope")
    assert chain.scripts == [BUILD]
    assert chain.last.outcome is RunOutcome.FAILED
    assert chain.failure == f"Jenkins job 'nope' not found (HTTP 404 at {jenkins.url}/job/nope/api/json)"
    assert f"Job `nope` was not found on Jenkins at {jenkins.url}." in chain.log
    assert jenkins.triggers == []


def test_a_failed_build_in_a_folder_is_named_as_jenkins_names_it(pool: WorkerPool, registry: TypeRegistry) -> None:
    with JenkinsServer() as jenkins:
        jenkins.add_job("team/app", result="UNSTABLE", next_build_number=12)
        chain = run_build(pool, registry, jenkins, jobName="team/job/app")
    assert chain.failure == "Build #12 of team/app finished with UNSTABLE"
    assert chain.properties["buildStatus"] == "UNSTABLE"


def test_a_disabled_job_fails_to_trigger(pool: WorkerPool, registry: TypeRegistry) -> None:
    with JenkinsServer() as jenkins:
        jenkins.add_job("app", disabled=True)
        chain = run_build(pool, registry, jenkins, jobName="app")
    assert chain.scripts == [BUILD]
    assert chain.failure == "Could not trigger app: HTTP 409"
    assert f"Failed to trigger job `app` at {jenkins.url}/job/app/ (HTTP 409)." in chain.log
    assert "app is not buildable" in chain.log  # errorDump() shows Jenkins' answer
    assert jenkins.triggers == []


def test_a_wrong_password_fails_with_the_401(pool: WorkerPool, registry: TypeRegistry) -> None:
    with JenkinsServer(users={"admin": "secret"}, anonymous_read=False) as jenkins:
        jenkins.add_job("hello")
        chain = run_build(pool, registry, jenkins, jobName="hello", username="admin", password="wrong")
    assert chain.scripts == [BUILD]
    assert chain.last.outcome is RunOutcome.FAILED
    assert chain.failure == "Jenkins refused the credentials (HTTP 401)"
    assert f"Could not read job `hello` at {jenkins.url}/job/hello/ (HTTP 401)." in chain.log
    assert "Invalid password/token for user: admin" in chain.log
    assert "wrong" not in chain.log


def test_task_credentials_override_the_servers(pool: WorkerPool, registry: TypeRegistry) -> None:
    with JenkinsServer(users={"admin": "secret", "ci": "token"}, anonymous_read=False) as jenkins:
        jenkins.add_job("hello")
        chain = run_build(pool, registry, jenkins, jobName="hello", ci_credentials=("ci", "token"))
        assert chain.last.outcome is RunOutcome.SUCCEEDED, chain.log
        assert jenkins.triggers[0].user == "ci"
        chain = run_build(
            pool,
            registry,
            jenkins,
            jobName="hello",
            ci_credentials=("ci", "token"),
            username="admin",
            password="secret",
        )
        assert chain.last.outcome is RunOutcome.SUCCEEDED, chain.log
        assert jenkins.triggers[1].user == "admin"


def test_a_parameterised_job_gets_its_parameters(pool: WorkerPool, registry: TypeRegistry) -> None:
    with JenkinsServer() as jenkins:
        jenkins.add_job("deploy", parameters={"ENV": "dev", "VERSION": "0", "NOTE": ""})
        chain = run_build(
            pool, registry, jenkins, jobName="deploy", jobParameters="ENV=prod\n\nVERSION=1.2 beta&x=y\nNOTE=a=b\n"
        )
        assert chain.last.outcome is RunOutcome.SUCCEEDED, chain.log
        assert jenkins.triggers == [
            Trigger("deploy", "buildWithParameters", {"ENV": "prod", "VERSION": "1.2 beta&x=y", "NOTE": "a=b"}, None, 1)
        ]
        assert jenkins.build("deploy", 1).parameters == {"ENV": "prod", "VERSION": "1.2 beta&x=y", "NOTE": "a=b"}


def test_a_parameterised_job_without_parameters_uses_its_defaults(pool: WorkerPool, registry: TypeRegistry) -> None:
    with JenkinsServer() as jenkins:
        jenkins.add_job("deploy", parameters={"ENV": "dev"})
        chain = run_build(pool, registry, jenkins, jobName="deploy")
        assert chain.last.outcome is RunOutcome.SUCCEEDED, chain.log
        assert jenkins.triggers == [Trigger("deploy", "buildWithParameters", {}, None, 1)]
        assert jenkins.build("deploy", 1).parameters == {"ENV": "dev"}


def test_parameters_for_a_plain_job_or_a_bad_line_fail_clearly(pool: WorkerPool, registry: TypeRegistry) -> None:
    with JenkinsServer() as jenkins:
        jenkins.add_job("plain")
        chain = run_build(pool, registry, jenkins, jobName="plain", jobParameters="A=1\nB=2")
        assert chain.failure == "Job plain takes no parameters, but jobParameters gives A, B"
        chain = run_build(pool, registry, jenkins, jobName="plain", jobParameters="A=1\njust text")
        assert chain.failure == "Job parameter line 2 is not name=value: just text"
        assert chain.last.outcome is RunOutcome.FAILED
        assert jenkins.triggers == []


def test_a_job_in_folders(pool: WorkerPool, registry: TypeRegistry) -> None:
    with JenkinsServer() as jenkins:
        jenkins.add_job("my team/app/deploy it")
        chain = run_build(pool, registry, jenkins, jobName="my team/job/app/job/deploy it")
    assert chain.last.outcome is RunOutcome.SUCCEEDED, chain.log
    assert jenkins.triggers[0].job == "my team/app/deploy it"
    build_url = f"{jenkins.url}/job/my%20team/job/app/job/deploy%20it/1/"
    assert f"Started [my team/app/deploy it #1]({build_url}) - view [Console Output]({build_url}console)" in chain.log
    assert any(r.path == "/job/my%20team/job/app/job/deploy%20it/build" for r in jenkins.requests)


@pytest.mark.parametrize("field", ["Jenkins-Crumb", ".crumb"])
def test_the_crumb_is_sent_in_the_header_the_server_names(pool: WorkerPool, registry: TypeRegistry, field: str) -> None:
    with JenkinsServer(crumbs=True, crumb_request_field=field, users={"admin": "secret"}) as jenkins:
        jenkins.add_job("hello")
        chain = run_build(pool, registry, jenkins, jobName="hello", username="admin", password="secret")
        assert chain.last.outcome is RunOutcome.SUCCEEDED, chain.log
        trigger_request = next(r for r in jenkins.requests if r.method == "POST")
        assert trigger_request.headers[field] == jenkins.crumb_for("admin")


def test_a_cancelled_queue_item_fails_the_task(pool: WorkerPool, registry: TypeRegistry) -> None:
    with JenkinsServer() as jenkins:
        jenkins.add_job("busy", queue_polls=100)

        def cancel_after_first_poll(number: int, path: str, result: ScriptRunResult) -> None:
            if number == 2:
                jenkins.cancel_queue_item(1)

        chain = run_build(pool, registry, jenkins, jobName="busy", after=cancel_after_first_poll)
    assert chain.scripts == [BUILD, WAIT_FOR_QUEUE, WAIT_FOR_QUEUE]
    assert chain.last.outcome is RunOutcome.FAILED
    assert chain.last.status_line == "Cancelled in the Jenkins queue"
    assert chain.failure == "Queue item 1 of busy was cancelled"
    assert (
        f"The build of `busy` was cancelled in the Jenkins queue ([queue item]({jenkins.url}/queue/item/1/))."
        in chain.log
    )
    assert chain.properties["buildNumber"] is None


def test_a_queue_item_jenkins_forgot_fails_the_task(pool: WorkerPool, registry: TypeRegistry) -> None:
    with JenkinsServer() as jenkins:
        jenkins.add_job("hello")
        chain = run_build(pool, registry, jenkins, start=WAIT_FOR_QUEUE, jobName="hello", location="/queue/item/99/")
    assert chain.scripts == [WAIT_FOR_QUEUE]
    assert chain.failure == "Queue item 99 of hello is no longer known to Jenkins (HTTP 404)"
    assert "Jenkins forgets a queue item a few minutes after it leaves the queue." in chain.log


def test_credentials_refused_while_polling_fail_the_task(pool: WorkerPool, registry: TypeRegistry) -> None:
    with JenkinsServer(users={"admin": "secret"}, anonymous_read=False) as jenkins:
        jenkins.add_job("hello", queue_polls=1)

        def revoke_after_trigger(number: int, path: str, result: ScriptRunResult) -> None:
            if number == 1:
                jenkins.users["admin"] = "rotated"

        chain = run_build(
            pool, registry, jenkins, jobName="hello", username="admin", password="secret", after=revoke_after_trigger
        )
    assert chain.scripts == [BUILD, WAIT_FOR_QUEUE]
    assert chain.failure == "Jenkins refused the credentials (HTTP 401)"
    assert f"Could not read the [queue item]({jenkins.url}/queue/item/1/) of `hello` (HTTP 401)." in chain.log
    assert "secret" not in chain.log


def test_a_build_deleted_while_running_fails_the_task(pool: WorkerPool, registry: TypeRegistry) -> None:
    with JenkinsServer() as jenkins:
        jenkins.add_job("hello", build_polls=5)

        def delete_build(number: int, path: str, result: ScriptRunResult) -> None:
            if path == WAIT_FOR_QUEUE and result.status_line == "Running build #1":
                del jenkins.job("hello").builds[1]

        chain = run_build(pool, registry, jenkins, jobName="hello", after=delete_build)
    assert chain.scripts == [BUILD, WAIT_FOR_QUEUE, WAIT_FOR_BUILD]
    assert chain.failure == "Could not read build #1 of hello: HTTP 404"
    assert f"Could not read build #1 of `hello` at {jenkins.url}/job/hello/1/ (HTTP 404)." in chain.log


def test_server_down_mid_build_is_waited_out(pool: WorkerPool, registry: TypeRegistry) -> None:
    with JenkinsServer() as jenkins:
        jenkins.add_job("long", build_polls=3)

        def outage(number: int, path: str, result: ScriptRunResult) -> None:
            if number == 3:  # the first wait-for-build poll has answered "building"
                jenkins.stop()
            if number == 5:  # two polls found Jenkins down
                jenkins.start()

        chain = run_build(pool, registry, jenkins, jobName="long", after=outage)
    assert chain.scripts == [
        BUILD,
        WAIT_FOR_QUEUE,
        WAIT_FOR_BUILD,
        WAIT_FOR_BUILD,
        WAIT_FOR_BUILD,
        WAIT_FOR_BUILD,
        WAIT_FOR_BUILD,
        WAIT_FOR_BUILD,
    ]
    assert chain.status_lines[3:5] == ["Running build #1 (Jenkins unreachable, retrying)"] * 2
    assert chain.status_lines[-1] == "Build #1: SUCCESS"
    assert chain.last.outcome is RunOutcome.SUCCEEDED, chain.log
    assert (
        chain.log.count(
            f"Jenkins did not answer: GET {jenkins.url}/job/long/1/api/json failed: "
            "Connection refused. Polling build #1 again later."
        )
        == 2
    )


def test_server_down_while_queued_is_waited_out(pool: WorkerPool, registry: TypeRegistry) -> None:
    with JenkinsServer() as jenkins:
        jenkins.add_job("busy", queue_polls=1)

        def outage(number: int, path: str, result: ScriptRunResult) -> None:
            if number == 1:
                jenkins.stop()
            if number == 2:
                jenkins.start()

        chain = run_build(pool, registry, jenkins, jobName="busy", after=outage)
    assert chain.status_lines[:4] == [
        "Build queued",
        "Build queued (Jenkins unreachable, retrying)",
        "Build queued",
        "Running build #1",
    ]
    assert chain.last.outcome is RunOutcome.SUCCEEDED, chain.log


def test_a_restarting_jenkins_answering_503_is_waited_out(pool: WorkerPool, registry: TypeRegistry) -> None:
    with JenkinsServer() as jenkins:
        jenkins.add_job("hello", build_polls=1)

        def restart(number: int, path: str, result: ScriptRunResult) -> None:
            jenkins.starting = number == 2

        chain = run_build(pool, registry, jenkins, jobName="hello", after=restart)
    assert chain.status_lines == [
        "Build queued",
        "Running build #1",
        "Running build #1 (Jenkins unreachable, retrying)",
        "Running build #1",
        "Build #1: SUCCESS",
    ]
    assert (
        f"Jenkins did not answer: GET {jenkins.url}/job/hello/1/api/json answered HTTP 503. Polling build #1 "
        "again later." in chain.log
    )


def test_jenkins_under_a_context_path(pool: WorkerPool, registry: TypeRegistry) -> None:
    with JenkinsServer(path_prefix="/jenkins") as jenkins:
        jenkins.add_job("hello")
        chain = run_build(pool, registry, jenkins, jobName="hello")
    assert chain.last.outcome is RunOutcome.SUCCEEDED, chain.log
    assert chain.properties["location"] == "/queue/item/1/"
    assert (
        f"Triggered [hello]({jenkins.url}/job/hello/) on Jenkins: [queue item]({jenkins.url}/queue/item/1/)."
        in chain.log
    )
