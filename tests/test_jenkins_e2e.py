"""jenkins.Build end to end: `xlr run` and `xlr demo` through the CLI, the polling interval with the virtual
clock, and `xlr serve` killed with builds queued and running.

The CLI tests run in real time with a 1-second polling interval (xlr.toml); the interval tests run the real
scheduler and workers on one virtual clock with the Jenkins test server, so 5-second polls cost nothing.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner, Result

from tests.task_helpers import XLR_COMMAND
from tests.waiting import DEADLINE, wait_until
from xlr_runtime import resources
from xlr_runtime.cli import main
from xlr_runtime.clock import VirtualClock
from xlr_runtime.home import Home
from xlr_runtime.runtime import Runtime
from xlr_runtime.store import Store, Task, TaskStatus
from xlr_runtime.testing.jenkins import JenkinsServer

T0 = 1_700_000_000.0
PASSWORD_ENV = "XLR_TEST_JENKINS_PASSWORD"


def configure(home: Home, jenkins: JenkinsServer, *, interval: float | None = 1, workers: int = 2) -> None:
    """xlr.toml with the CI ``jenkins`` (user admin, password from PASSWORD_ENV) and the polling interval."""
    settings = f'"workers.size" = {workers}\n' + (
        f'"schedule.default_interval" = {interval}\n' if interval is not None else ""
    )
    home.config_file.write_text(
        f"[settings]\n{settings}\n"
        f'[ci.jenkins]\ntype = "jenkins.Server"\nurl = "{jenkins.url}"\nusername = "admin"\n'
        f'password = {{ env = "{PASSWORD_ENV}" }}\n',
        encoding="utf-8",
    )


def xlr_run(home: Home, *inputs: str, password: str = "secret") -> Result:
    args = ["run", "jenkins.Build", "--ci", "jenkinsServer=jenkins", "--home", str(home.root)]
    for item in inputs:
        args += ["-i", item]
    return CliRunner().invoke(main, args, env={PASSWORD_ENV: password})


def stored_task(home: Home, task_id: str = "1") -> tuple[str, str | None, list[str]]:
    """Status, status line and log texts of a stored task."""
    with Store.open(home.database) as store:
        task = store.tasks.get(task_id)
        return str(task.status), task.status_line, [line.text for line in store.tasks.log(task_id)]


def when(condition: Callable[[], bool], action: Callable[[], None], *, timeout: float = DEADLINE) -> threading.Thread:
    """Run ``action`` in a thread as soon as ``condition`` holds."""

    def watch() -> None:
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.02)
        action()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def polls_of(jenkins: JenkinsServer, path: str) -> int:
    return sum(1 for r in jenkins.requests if r.method == "GET" and r.path == path)


@pytest.fixture
def jenkins() -> JenkinsServer:
    with JenkinsServer(users={"admin": "secret"}, anonymous_read=False, crumbs=True) as server:
        yield server


def test_xlr_run_a_parameterised_job_in_a_folder_with_crumbs(home: Home, jenkins: JenkinsServer) -> None:
    configure(home, jenkins)
    jenkins.add_job("team/deploy", parameters={"ENV": "dev", "VERSION": "1"}, queue_polls=1, build_polls=1)
    result = xlr_run(home, "jobName=team/job/deploy", "jobParameters=ENV=prod\nVERSION=2.0")
    assert result.exit_code == 0, result.output
    assert "buildNumber = '1'\nbuildStatus = 'SUCCESS'\n" in result.stdout
    assert "Task 1 completed" in result.output
    status, status_line, log = stored_task(home)
    assert (status, status_line) == ("completed", "Build #1: SUCCESS")
    build_url = f"{jenkins.url}/job/team/job/deploy/1/"
    assert log == [
        f"Triggered [team/deploy]({jenkins.url}/job/team/job/deploy/) on Jenkins: "
        f"[queue item]({jenkins.url}/queue/item/1/).",
        f"Started [team/deploy #1]({build_url}) - view [Console Output]({build_url}console)",
        "",
        "Finished: SUCCESS",
        f"[team/deploy #1]({build_url}) - view [Console Output]({build_url}console)",
    ]
    assert jenkins.build("team/deploy", 1).parameters == {"ENV": "prod", "VERSION": "2.0"}
    assert [t.user for t in jenkins.triggers] == ["admin"]


def test_xlr_run_a_failing_build_exits_1_with_its_status(home: Home, jenkins: JenkinsServer) -> None:
    configure(home, jenkins)
    jenkins.add_job("broken", result="FAILURE")
    result = xlr_run(home, "jobName=broken")
    assert result.exit_code == 1, result.output
    assert "buildNumber = '1'\nbuildStatus = 'FAILURE'\n" in result.stdout
    assert "Task 1 failed: Build #1 of broken finished with FAILURE" in result.output
    status, status_line, log = stored_task(home)
    assert (status, status_line) == ("failed", "Build #1: FAILURE")
    assert "Finished: FAILURE" in log
    assert log[-1] == "Task failed: Build #1 of broken finished with FAILURE"


def test_xlr_run_an_unknown_job_fails_at_once(home: Home, jenkins: JenkinsServer) -> None:
    configure(home, jenkins)
    result = xlr_run(home, "jobName=nope")
    assert result.exit_code == 1, result.output
    assert f"Job `nope` was not found on Jenkins at {jenkins.url}." in result.output
    reason = f"Jenkins job 'nope' not found (HTTP 404 at {jenkins.url}/job/nope/api/json)"
    assert f"Task 1 failed: {reason}" in result.output
    assert jenkins.triggers == []


def test_xlr_run_with_a_wrong_password_fails_and_never_shows_it(home: Home, jenkins: JenkinsServer) -> None:
    configure(home, jenkins)
    jenkins.add_job("hello")
    result = xlr_run(home, "jobName=hello", password="not-the-password")
    assert result.exit_code == 1, result.output
    assert f"Could not read job `hello` at {jenkins.url}/job/hello/ (HTTP 401)." in result.output
    assert "Invalid password/token for user: admin" in result.output
    assert "Task 1 failed: Jenkins refused the credentials (HTTP 401)" in result.output
    assert "not-the-password" not in result.output
    assert "not-the-password" not in " ".join(stored_task(home)[2])


def test_xlr_run_a_build_cancelled_in_the_queue_fails(home: Home, jenkins: JenkinsServer) -> None:
    configure(home, jenkins)
    jenkins.add_job("busy", queue_polls=1000)
    when(lambda: polls_of(jenkins, "/queue/item/1/api/json") >= 1, lambda: jenkins.cancel_queue_item(1))
    result = xlr_run(home, "jobName=busy")
    assert result.exit_code == 1, result.output
    assert (
        f"The build of `busy` was cancelled in the Jenkins queue ([queue item]({jenkins.url}/queue/item/1/))."
        in result.output
    )
    assert "Task 1 failed: Queue item 1 of busy was cancelled" in result.output
    assert stored_task(home)[:2] == ("failed", "Cancelled in the Jenkins queue")


def test_xlr_run_waits_out_jenkins_going_down_mid_build(home: Home, jenkins: JenkinsServer) -> None:
    configure(home, jenkins)
    jenkins.add_job("long", build_polls=2)

    def outage() -> None:
        jenkins.stop()
        try:  # down until a poll found it down, however long that takes on a loaded machine
            wait_until(lambda: any("Jenkins did not answer" in text for text in stored_task(home)[2]), "no failed poll")
        finally:
            jenkins.start()

    watcher = when(lambda: polls_of(jenkins, "/job/long/1/api/json") >= 1, outage)
    result = xlr_run(home, "jobName=long")
    watcher.join()
    assert result.exit_code == 0, result.output
    assert "buildStatus = 'SUCCESS'" in result.stdout
    down = (
        f"Jenkins did not answer: GET {jenkins.url}/job/long/1/api/json failed: Connection refused. "
        "Polling build #1 again later."
    )
    assert down in result.output
    assert stored_task(home)[:2] == ("completed", "Build #1: SUCCESS")


def test_xlr_demo_runs_the_sample_end_to_end(tmp_path: Path) -> None:
    demo_home = tmp_path / "demo"
    result = CliRunner().invoke(
        main, ["demo", "--queue-seconds", "0", "--build-seconds", "0.5", "--home", str(demo_home)]
    )
    assert result.exit_code == 0, result.output
    assert "buildNumber = '1'\nbuildStatus = 'SUCCESS'\n" in result.stdout
    assert "Task 1 completed" in result.output
    assert "Started [xlr-demo/hello-world #1]" in result.output
    toml = (demo_home / "xlr.toml").read_text()
    assert 'password = { env = "XLR_DEMO_JENKINS_PASSWORD" }' in toml
    assert "XLR_DEMO_JENKINS_PASSWORD" not in os.environ
    assert stored_task(Home(demo_home))[:2] == ("completed", "Build #1: SUCCESS")


def test_xlr_demo_keeps_to_its_own_home_whatever_xlr_store_says(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.db"
    demo_home = tmp_path / "demo"
    result = CliRunner().invoke(
        main,
        ["demo", "--queue-seconds", "0", "--build-seconds", "0.5", "--home", str(demo_home)],
        env={"XLR_STORE": f"sqlite:///{elsewhere}"},
    )
    assert result.exit_code == 0, result.output
    assert stored_task(Home(demo_home))[:2] == ("completed", "Build #1: SUCCESS")
    assert not elsewhere.exists()


def test_xlr_demo_a_failing_build_ends_with_its_reason(tmp_path: Path) -> None:
    args = ["demo", "--result", "FAILURE", "--queue-seconds", "0", "--build-seconds", "0.5", "--home", str(tmp_path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert "buildNumber = '1'\nbuildStatus = 'FAILURE'\n" in result.stdout
    assert result.output.endswith("Task 1 failed: Build #1 of xlr-demo/hello-world finished with FAILURE\n")


def test_xlr_demo_refuses_a_home_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "something").write_text("x")
    result = CliRunner().invoke(main, ["demo", "--home", str(tmp_path)])
    assert result.exit_code == 2  # a usage error; click words the line, ours is the reason and the option
    (line,) = [
        line for line in result.output.splitlines() if f"{tmp_path} is not empty; give a new or empty folder" in line
    ]
    assert "--home" in line


def drive_on_virtual_clock(
    home: Home, *, conf: str | None, interval: float | None = None
) -> tuple[list[float], dict[str, object], JenkinsServer]:
    """Run one jenkins.Build (queued 12 s, building 20 s on the virtual clock) and return its runs' due times
    (``interval``: ``schedule.default_interval`` in xlr.toml)."""
    clock = VirtualClock(T0)
    if conf is not None:
        home.hocon_file.parent.mkdir(parents=True, exist_ok=True)
        home.hocon_file.write_text(conf, encoding="utf-8")
    with JenkinsServer(users={"admin": "secret"}, crumbs=True, clock=clock.now) as jenkins:
        configure(home, jenkins, interval=interval)
        jenkins.add_job("timed", queue_delay=12, duration=20)
        os.environ[PASSWORD_ENV] = "secret"
        try:
            with Runtime(home, clock=clock) as runtime:
                task = runtime.create_task("jenkins.Build", {"jenkinsServer": "jenkins", "jobName": "timed"})
                done = runtime.drive(task.id)
                offsets = [run.due_at - T0 for run in runtime.store.tasks.runs(task.id)]
        finally:
            del os.environ[PASSWORD_ENV]
        build = jenkins.build("timed", 1)
        assert (build.started_at - T0, build.finished_at - T0 if build.finished_at else None) == (12, 32)
    return offsets, {**done.properties, "status": str(done.status)}, jenkins


def test_the_default_five_second_interval_paces_the_polls(home: Home) -> None:
    offsets, properties, _ = drive_on_virtual_clock(home, conf=None)
    # Build.py at 0; the queue item is polled at 5, 10 (waiting) and 15 (build #1 started at 12);
    # the build is polled at 20, 25, 30 (running) and 35 (SUCCESS, it ended at 32).
    assert offsets == [0, 5, 10, 15, 20, 25, 30, 35]
    assert (properties["status"], properties["buildNumber"], properties["buildStatus"]) == ("completed", "1", "SUCCESS")


def test_xl_release_conf_sets_the_interval(home: Home) -> None:
    offsets, properties, _ = drive_on_virtual_clock(
        home, conf="xl.durations.customScriptTaskScheduleInterval = 10 seconds\n"
    )
    assert offsets == [0, 10, 20, 30, 40]
    assert properties["buildStatus"] == "SUCCESS"


def test_xlr_toml_sets_the_interval(home: Home) -> None:
    offsets, properties, _ = drive_on_virtual_clock(home, conf=None, interval=8)
    # the queue item at 8 (waiting) and 16 (started at 12); the build at 24 (running) and 32 (it ended at 32)
    assert offsets == [0, 8, 16, 24, 32]
    assert properties["buildStatus"] == "SUCCESS"


def test_an_interval_given_per_call_paces_the_polls(home: Home) -> None:
    """An ext/ override of wait-for-build that polls every 3 s, as the community WaitForCompletion.py does."""
    script = (resources.bundled_plugins_dir() / "jenkins" / "jenkins" / "Build.wait-for-build.py").read_text()
    assert script.count("task.schedule(WAIT_FOR_BUILD)") == 2
    override = home.ext_dir / "jenkins" / "Build.wait-for-build.py"
    override.parent.mkdir(parents=True, exist_ok=True)
    override.write_text(script.replace("task.schedule(WAIT_FOR_BUILD)", "task.schedule(WAIT_FOR_BUILD, 3)"))
    offsets, properties, _ = drive_on_virtual_clock(home, conf="xl.durations.customScriptTaskScheduleInterval = 4s\n")
    # the default (4 s) up to the first build poll at 16 (started at 12); then every 3 s until it ended at 32
    assert offsets == [0, 4, 8, 12, 16, 19, 22, 25, 28, 31, 34]
    assert properties["buildStatus"] == "SUCCESS"


SERVE = [sys.executable, "-c", "from xlr_runtime.cli import main; main()", "serve"]


def test_serve_killed_with_builds_queued_and_running_finishes_them_after_a_restart(
    tmp_path: Path, jenkins: JenkinsServer
) -> None:
    home = Home(tmp_path / "home").ensure()
    configure(home, jenkins, workers=4)
    # Jenkins holds each where it is (polls, not seconds) until the test moves it on while the runtime is down
    held = 10**6
    jenkins.add_job("queued", queue_polls=held, next_build_number=11)
    jenkins.add_job("running", build_polls=held, next_build_number=21)
    jenkins.add_job("failing", build_polls=held, result="FAILURE", next_build_number=31)
    with Runtime(home) as runtime:
        ids = {
            job: runtime.create_task("jenkins.Build", {"jenkinsServer": "jenkins", "jobName": job}).id
            for job in ("queued", "running", "failing")
        }
    env = {**os.environ, PASSWORD_ENV: "secret"}
    log = tmp_path / "serve.log"

    def serve() -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            return subprocess.Popen(
                [*SERVE, "--home", str(home.root)], stdout=out, stderr=out, env=env, start_new_session=True
            )

    def lines() -> dict[str, str | None]:
        with Store.open(home.database) as store:
            return {job: store.tasks.get(task_id).status_line for job, task_id in ids.items()}

    process = serve()
    expected = {"queued": "Build queued", "running": "Running build #21", "failing": "Running build #31"}
    wait_until(lambda: lines() == expected, lambda: (lines(), log.read_text(errors="replace")[-3000:]))
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    # Jenkins carries on while the runtime is down: the queued build leaves the queue, the others end
    (queued,) = [trigger.queue_id for trigger in jenkins.triggers if trigger.job == "queued"]
    jenkins.queue_item(queued).polls_left = 0
    jenkins.finish_build("running", 21)
    jenkins.finish_build("failing", 31)
    process = serve()
    try:
        finals: list[tuple[dict[str, Task], dict[str, list[str]]]] = []

        def all_final() -> bool:
            with Store.open(home.database) as store:
                tasks = {job: store.tasks.get(task_id) for job, task_id in ids.items()}
                logs = {job: [line.text for line in store.tasks.log(task_id)] for job, task_id in ids.items()}
            finals.append((tasks, logs))
            return all(task.status.is_final for task in tasks.values())

        wait_until(all_final, lambda: log.read_text(errors="replace")[-3000:])
        tasks, logs = finals[-1]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=DEADLINE)
    outcome = {
        job: (t.status, t.properties["buildNumber"], t.properties["buildStatus"], t.status_line)
        for job, t in tasks.items()
    }
    assert outcome == {
        "queued": (TaskStatus.COMPLETED, "11", "SUCCESS", "Build #11: SUCCESS"),
        "running": (TaskStatus.COMPLETED, "21", "SUCCESS", "Build #21: SUCCESS"),
        "failing": (TaskStatus.FAILED, "31", "FAILURE", "Build #31: FAILURE"),
    }
    assert sorted(t.job for t in jenkins.triggers) == ["failing", "queued", "running"]  # nothing triggered twice
    for job, number in (("queued", 11), ("running", 21), ("failing", 31)):
        assert sum(f"Started [{job} #{number}]" in line for line in logs[job]) == 1
    last = {"queued": "[queued #11]", "running": "[running #21]", "failing": "Task failed"}
    assert {job: lines[-1][: len(last[job])] for job, lines in logs.items()} == last


def test_xlr_demo_http_serves_the_sample_on_the_dashboard_until_stopped(tmp_path: Path) -> None:
    log = tmp_path / "demo.log"
    command = [*XLR_COMMAND, "demo", "--http", "--queue-seconds", "0", "--build-seconds", "0.5",
               "--home", str(tmp_path / "home")]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out, start_new_session=True)
    try:
        found: list[str] = []
        wait_until(lambda: found.extend(re.findall(r"Dashboard at (http://\S+)", log.read_text())) or found,
                   lambda: log.read_text(), timeout=DEADLINE)  # fmt: skip
        dashboard = found[0]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", dashboard)

        def completed() -> bool:
            return "Build #1: SUCCESS" in requests.get(dashboard + "tasks/1", timeout=30).text

        wait_until(completed, lambda: log.read_text(), timeout=DEADLINE)
        assert "Jenkins demo build" in requests.get(dashboard + "tasks", timeout=30).text
        assert "greet" in requests.get(dashboard + "jobs", timeout=30).text
        token = re.search(r"API token (xlr_\S+)", log.read_text())
        assert token, log.read_text()
        info = requests.get(dashboard + "api/47/system/info", headers={"X-Rundeck-Auth-Token": token[1]}, timeout=30)
        assert info.status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0, log.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
