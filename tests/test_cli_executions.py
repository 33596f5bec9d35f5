"""``xlr jobs run``, ``xlr executions``, ``xlr execution show|log|abort|resume``, and an end-to-end run of a job
whose step-plugin is ``jenkins.Build`` against the Jenkins test server, surviving ``kill -9`` mid-job."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.waiting import DEADLINE, wait_until
from xlr_runtime.cli import main
from xlr_runtime.home import Home
from xlr_runtime.runtime import LOCK_FILE
from xlr_runtime.store import Store
from xlr_runtime.store.executions import ExecutionStatus
from xlr_runtime.store.owners import ProcessIdentity
from xlr_runtime.testing.jenkins import JenkinsServer

XLR = [sys.executable, "-c", "from xlr_runtime.cli import main; main()"]

JOB = """<joblist><job><name>greet</name><group>demo</group><description/>
<context><options><option name='who' value='world'/><option name='code' value='0'/>
<option name='pw' secure='true' valueExposed='true'/></options></context>
<sequence keepgoing='false' strategy='node-first'>
<command><description>say hello</description><exec>echo hello ${option.who} ${option.pw}</exec></command>
<command><exec>exit ${option.code}</exec></command>
</sequence></job>
<job><name>slow</name><description/><sequence><command><exec>echo started; sleep 30</exec></command></sequence></job>
</joblist>"""


def xlr(home: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args[:2], "--home", str(home), *args[2:]] if args[0] in ("jobs", "execution")
                              else [args[0], "--home", str(home), *args[1:]])  # fmt: skip


@pytest.fixture
def home(tmp_path: Path) -> Path:
    root = tmp_path / "home"
    job = tmp_path / "jobs.xml"
    job.write_text(JOB)
    result = xlr(root, "jobs", "load", "-p", "P", "-f", str(job))
    assert result.exit_code == 0, result.output
    return root


def test_ids_are_json_numbers_for_tasks_and_executions_alike(home: Path) -> None:
    """As Rundeck's API gives execution ids; task ids (stored as numbers too) follow them."""
    assert xlr(home, "jobs", "run", "-p", "P", "-j", "demo/greet").exit_code == 0
    demo = str(Path(__file__).parent / "data" / "plugins" / "demo")
    assert xlr(home, "run", "demo.Counter", "-i", "polls=0", "--plugins", demo).exit_code == 0
    execution = json.loads(xlr(home, "executions", "--json").output)[0]
    shown_execution = json.loads(xlr(home, "execution", "show", "1", "--json").output)
    task = json.loads(xlr(home, "tasks", "--json").output)[0]
    shown_task = json.loads(CliRunner().invoke(main, ["task", "show", "1", "--json", "--home", str(home)]).output)
    ids = [execution["id"], shown_execution["id"], task["id"], shown_task["id"], shown_task["runs"][0]["task_id"]]
    assert ids == [1, 1, 1, 1, 1]
    assert all(type(i) is int for i in ids), ids


def test_run_follow_show_log_and_list(home: Path) -> None:
    result = xlr(home, "jobs", "run", "-p", "P", "-j", "demo/greet", "--follow", "--", "-who", "you", "-pw", "s3cret")
    assert result.exit_code == 0, result.output
    assert "hello you ********" in result.output
    assert "s3cret" not in result.output
    shown = xlr(home, "execution", "show", "1", "--json")
    data = json.loads(shown.output)
    assert (data["status"], data["argstring"]) == ("succeeded", "-code 0 -pw ***** -who you")
    log = xlr(home, "execution", "log", "1")
    assert log.output.splitlines()[1:] == ["hello you ********"]
    assert log.output.splitlines()[0].startswith("[INFO] Step 1: say hello on ")
    listed = xlr(home, "executions", "-p", "P")
    assert "succeeded" in listed.output and "demo/greet" in listed.output


def test_exit_codes_and_refusals(home: Path) -> None:
    failed = xlr(home, "jobs", "run", "-p", "P", "-j", "demo/greet", "--", "-code", "4")
    assert failed.exit_code == 1, failed.output
    assert "Execution 1 failed: Step 2 failed: Result: 4" in failed.output
    refused = xlr(home, "jobs", "run", "-p", "P", "-j", "demo/greet", "--", "-nope", "1")
    assert refused.exit_code == 1
    assert "Error: unknown option 'nope' (the job's options: code, pw, who)" in refused.output
    both = xlr(home, "jobs", "run", "-p", "P")
    assert both.exit_code == 2 and "give the job with exactly one of -j GROUP/NAME and -i UUID" in both.output


def test_run_by_uuid_only_in_the_jobs_project(home: Path) -> None:
    listed = json.loads(xlr(home, "jobs", "list", "-p", "P", "--json").output)
    uuid = next(job["uuid"] for job in listed if job["name"] == "greet")
    ran = xlr(home, "jobs", "run", "-p", "P", "-i", uuid)
    assert ran.exit_code == 0, ran.output
    other = xlr(home, "jobs", "run", "-p", "Q", "-i", uuid)
    assert other.exit_code == 1
    assert other.output.splitlines()[-1] == f'Error: no job with uuid {uuid} in project "Q" (it is in "P")'


def test_jobs_run_registers_as_the_homes_holder_and_refuses_a_live_one_the_lock_file_missed(home: Path) -> None:
    """As ``xlr run`` and ``xlr serve``: a process still holding the home in the store (its lock file deleted) is
    named, and the execution stays queued for it."""
    with Store.open(Home(home).database) as store:
        store.owners.register("holder", ProcessIdentity.current(), purpose="xlr serve", now=time.time())
    refused = xlr(home, "jobs", "run", "-p", "P", "-j", "demo/greet")
    assert refused.exit_code == 1, refused.output
    assert refused.output.splitlines()[:2] == [
        "Execution 1 of demo/greet started",
        f"Error: home {home} is in use by pid {os.getpid()} (xlr serve) on {socket.gethostname()}, although "
        f"{LOCK_FILE} did not say so (it was deleted or replaced)",
    ], refused.output
    assert "Traceback" not in refused.output
    with Store.open(Home(home).database) as store:
        assert store.executions.get(1).status is ExecutionStatus.QUEUED
        assert [owner.owner for owner in store.owners.all()] == ["holder"]  # nothing recorded beside it
        store.owners.forget(["holder"])
    resumed = xlr(home, "execution", "resume", "1")  # once the holder is gone
    assert resumed.exit_code == 0, resumed.output
    with Store.open(Home(home).database) as store:
        assert store.executions.get(1).status is ExecutionStatus.SUCCEEDED


def test_abort_from_another_process(home: Path, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*XLR, "jobs", "run", "--home", str(home), "-p", "P", "-j", "slow"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    _wait_for_log(home, 1, "started")
    aborted = xlr(home, "execution", "abort", "1")
    assert aborted.output.strip() == "Execution 1: abort requested"
    assert process.wait(timeout=DEADLINE) == 3
    assert xlr(home, "execution", "abort", "1").output.strip() == "Error: execution 1 has already ended (aborted)"


def _wait_for_log(home: Path, execution_id: int, text: str) -> None:
    def logged() -> bool:
        if not (home / "xlr.db").exists():
            return False
        with Store.open(home / "xlr.db") as store:
            return any(text in line.text for line in store.executions.log(execution_id))

    wait_until(logged, f"{text!r} not logged by execution {execution_id}", interval=0.05)


JENKINS_JOB = """<joblist><job><name>build-and-report</name><description/>
<context><options><option name='app' required='true'/></options></context>
<sequence keepgoing='false' strategy='node-first'>
<command><description>build</description><step-plugin type='jenkins.Build'><configuration>
<entry key='jenkinsServer' value='ci'/><entry key='jobName' value='${option.app}'/></configuration>
</step-plugin></command>
<command><exec>echo built ${option.app} number ${data.buildNumber} status ${data.buildStatus}</exec></command>
</sequence></job></joblist>"""


def test_jenkins_build_step_survives_kill_9(tmp_path: Path) -> None:
    """The acceptance test of running jobs; in the default suite, so the polls are 1 s apart (about 10 s)."""
    home = tmp_path / "home"
    home.mkdir()
    with JenkinsServer() as jenkins:
        # the build runs until the test ends it (polls, not seconds): the kill surely finds the step running
        app = jenkins.add_job("app", build_polls=10**6, next_build_number=41)
        (home / "xlr.toml").write_text(
            '[settings]\n"schedule.default_interval" = 1\n"workers.size" = 2\n\n'
            f'[ci.ci]\ntype = "jenkins.Server"\nurl = "{jenkins.url}"\n'
        )
        job = tmp_path / "job.xml"
        job.write_text(JENKINS_JOB)
        assert xlr(home, "jobs", "load", "-p", "P", "-f", str(job)).exit_code == 0
        command = [*XLR, "jobs", "run", "--home", str(home), "-p", "P",
                   "-j", "build-and-report", "--", "-app", "app"]  # fmt: skip
        first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        _wait_for_task_running(home)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        app.build_polls = 0  # Jenkins carries on while the runtime is down: the build ends (or starts and ends)
        if 41 in app.builds:
            jenkins.finish_build("app", 41)
        resumed = subprocess.run(
            [*XLR, "execution", "resume", "--home", str(home), "1", "--follow"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert "built app number 41 status SUCCESS" in resumed.stdout
    with Store.open(home / "xlr.db") as store:
        execution = store.executions.get(1)
        assert (execution.status, execution.restarts) == (ExecutionStatus.SUCCEEDED, 1)
        assert len(store.tasks.list()) == 1


def _wait_for_task_running(home: Path) -> None:
    def polling() -> bool:
        if not (home / "xlr.db").exists():
            return False
        with Store.open(home / "xlr.db") as store:
            tasks = store.tasks.list()
            return bool(tasks) and any(run.seq >= 2 for run in store.tasks.runs(tasks[0].id))

    wait_until(polling, "the jenkins.Build task did not start polling", interval=0.05)


SERVED_JOB = """<joblist><job><name>served</name><description/><sequence>
<command><exec>echo one</exec></command>
<command><exec>echo waiting; i=0; while [ ! -f {release} ] &amp;&amp; [ $i -lt 6000 ]; \
do sleep 0.01; i=$((i+1)); done; echo slept</exec></command>
<command><exec>echo done</exec></command>
</sequence></job></joblist>"""


def _serve(home: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([*XLR, "serve", "--home", str(home)], stdout=out, stderr=out, start_new_session=True)


def _wait_serving(log: Path, count: int) -> None:
    wait_until(
        lambda: log.read_text(errors="replace").count("Serving ") >= count, lambda: log.read_text(errors="replace")
    )


@pytest.mark.slow
def test_serve_drives_executions_and_resumes_them_after_kill_9(tmp_path: Path) -> None:
    home = tmp_path / "home"
    job = tmp_path / "served.xml"
    release = tmp_path / "release"  # step 2 runs until the test releases it (up to 60 s): the kill finds it running
    job.write_text(SERVED_JOB.replace("{release}", str(release)))
    assert xlr(home, "jobs", "load", "-p", "P", "-f", str(job)).exit_code == 0
    log = tmp_path / "serve.log"
    server = _serve(home, log)
    _wait_serving(log, 1)
    run = subprocess.Popen([*XLR, "jobs", "run", "--home", str(home), "-p", "P", "-j", "served", "--follow"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    _wait_for_log(home, 1, "waiting")
    os.killpg(server.pid, signal.SIGKILL)
    server.wait()
    server = _serve(home, log)
    try:
        _wait_serving(log, 2)
        release.touch()
        output, _ = run.communicate(timeout=DEADLINE)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=DEADLINE)
    text = output.decode()
    assert run.returncode == 0, text
    assert "Resumed after a restart of the runtime" in text
    lines = text.splitlines()
    assert (lines.count("one"), lines.count("waiting"), lines.count("done")) == (1, 2, 1)


VAULT_JOB = """<joblist><job><name>fetch</name><description/>
<sequence keepgoing='false' strategy='node-first'>
<command><step-plugin type='vault.Fetch'><configuration><entry key='path' value='db'/></configuration>
</step-plugin></command>
<command><exec>echo got ${data.user} ${data.secret}</exec></command>
</sequence></job></joblist>"""


def test_a_password_output_of_a_task_step_reaches_later_steps_masked(tmp_path: Path) -> None:
    canary = "canary-vault-7731"
    plugin = tmp_path / "vault"
    (plugin / "vault").mkdir(parents=True)
    (plugin / "synthetic.xml").write_text(
        '<synthetic xmlns="http://www.xebialabs.com/deployit/synthetic">\n'
        '  <type type="vault.Fetch" extends="xlrelease.PythonScript">\n'
        '    <property name="path" category="input"/>\n'
        '    <property name="user" category="output" required="false"/>\n'
        '    <property name="secret" category="output" password="true" required="false"/>\n'
        "  </type>\n</synthetic>\n"
    )
    (plugin / "vault" / "Fetch.py").write_text(f'user = "bob"\nsecret = "{canary}"\n')
    home = tmp_path / "home"
    home.mkdir()
    job = tmp_path / "job.xml"
    job.write_text(VAULT_JOB)
    assert xlr(home, "jobs", "load", "-p", "P", "-f", str(job)).exit_code == 0
    result = xlr(home, "jobs", "run", "-p", "P", "-j", "fetch", "--follow", "--plugins", str(plugin))
    assert result.exit_code == 0, result.output
    assert "got bob ********" in result.output
    assert canary not in result.output
    for path in home.glob("xlr.db*"):
        assert canary.encode() not in path.read_bytes(), path


def test_log_timestamps_start_each_line_with_its_time(home: Path) -> None:
    assert xlr(home, "jobs", "run", "-p", "P", "-j", "demo/greet", "--", "-who", "you").exit_code == 0
    plain = xlr(home, "execution", "log", "1").output.splitlines()
    stamped = xlr(home, "execution", "log", "1", "--timestamps").output.splitlines()
    assert len(stamped) == len(plain)
    for line, text in zip(stamped, plain, strict=True):
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (.*)", line).group(1) == text  # type: ignore[union-attr]
