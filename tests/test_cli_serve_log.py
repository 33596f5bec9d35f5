"""``xlr serve`` logs one line per event: text by default, one JSON object per line with ``--log-format json``;
``-q`` keeps only warnings (a failed task), and the start and stop lines stay. Tasks, schedules, executions and
notifications each have their events."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from serve_helpers import Serve
from task_helpers import DEMO_PLUGIN, XLR_COMMAND

from tests.notification_helpers import running_webhooks
from xlr_runtime.cli import main
from xlr_runtime.home import Home
from xlr_runtime.runtime import Runtime
from xlr_runtime.scheduler import Recovery
from xlr_runtime.store import RunState, ScriptRun
from xlr_runtime.store.owners import ProcessIdentity


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def serve_two_tasks(home: Home, log: Path, *options: str) -> str:
    """Serve ``home``, run a completing and a failing task through it, stop it; return its stderr."""
    command = [*XLR_COMMAND, "serve", *options, "--home", str(home.root), "--plugins", str(DEMO_PLUGIN)]
    with log.open("w") as handle:
        server = subprocess.Popen(command, stdout=handle, stderr=handle)
    try:
        wait_for(lambda: "Serving " in log.read_text(), "xlr serve did not start")
        with Runtime(home, plugin_paths=[DEMO_PLUGIN]) as runtime:
            tasks = [runtime.create_task("demo.Counter", {"polls": 0}), runtime.create_task("demo.Fail")]
            wait_for(lambda: all(runtime.store.tasks.get(t.id).status.is_final for t in tasks), "the tasks did not end")
        ends = 1 if "-q" in options else 2  # quiet: only the failed task's line
        marker = "task.ended" if "json" in options else "ended: "
        wait_for(lambda: log.read_text().count(marker) == ends, "no end lines")
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    return log.read_text()


def test_json_lines_carry_time_level_event_and_ids(home: Home, tmp_path: Path) -> None:
    text = serve_two_tasks(home, tmp_path / "serve.log", "--log-format", "json")
    lines = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    assert all({"time", "level", "event", "message"} <= set(line) for line in lines), lines
    ready = next(line for line in lines if line["event"] == "serve.ready")
    assert ready["message"].startswith("Serving ")
    assert lines[-1]["event"] == "serve.stopped"
    events = {(line["event"], line.get("task_id"), line.get("status"), line["level"]) for line in lines}
    assert {
        ("task.started", 1, None, "info"),
        ("task.ended", 1, "completed", "info"),
        ("task.started", 2, None, "info"),
        ("task.ended", 2, "failed", "warning"),
    } <= events, lines
    assert ready["time"].endswith("+00:00")


def test_text_lines_and_quiet(home: Home, tmp_path: Path) -> None:
    text = serve_two_tasks(home, tmp_path / "serve.log")
    assert " INFO task 1 (demo.Counter) started" in text
    assert " INFO task 1 (demo.Counter) ended: completed" in text
    assert " WARNING task 2 (demo.Fail) ended: failed: " in text
    assert text.rstrip().endswith("Stopped.")

    quiet = serve_two_tasks(Home(tmp_path / "other").ensure(), tmp_path / "quiet.log", "-q")
    assert "INFO" not in quiet
    assert " WARNING task 2 (demo.Fail) ended: failed: " in quiet
    assert quiet.startswith("Serving ") and quiet.rstrip().endswith("Stopped.")


def test_json_lines_for_schedules_executions_and_notifications(home: Home, tmp_path: Path) -> None:
    """The Rundeck side of the event log: a schedule fires, its execution starts and ends, one notification is
    sent and one fails, each a line with the execution's id (a number) and what it is about."""
    with running_webhooks() as (hooks, base):
        notifications = (
            f"<onstart><webhook urls='{base}/fail'/></onstart><onsuccess><webhook urls='{base}/ok'/></onsuccess>"
        )
        jobs = tmp_path / "jobs.xml"
        jobs.write_text(
            "<joblist><job><name>tick</name><group>ops</group><description/><uuid>uuid-tick</uuid>"
            "<schedule crontab='* * * ? * * *'/>"  # every second
            f"<notification>{notifications}</notification>"
            "<sequence><command><exec>echo tick</exec></command></sequence></job></joblist>"
        )
        loaded = CliRunner().invoke(main, ["jobs", "load", "-p", "P", "-f", str(jobs), "--home", str(home.root)])
        assert loaded.exit_code == 0, loaded.output
        log = tmp_path / "serve.log"
        command = [*XLR_COMMAND, "serve", "--log-format", "json", "--home", str(home.root)]
        with log.open("w") as handle:
            server = subprocess.Popen(command, stdout=handle, stderr=handle)
        try:
            wait_for(lambda: first_execution_notified(log), "the first execution's end was not notified")
            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=60) == 0
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    fired = next(line for line in lines if line["event"] == "schedule.fired")
    execution_id = fired["execution_id"]
    assert (type(execution_id), fired["job"], fired["level"]) == (int, "ops/tick", "info"), lines
    about = [line for line in lines if line.get("execution_id") == execution_id]
    started = next(line for line in about if line["event"] == "execution.started")
    assert started["job"] == "ops/tick" and started["message"] == f"execution {execution_id} of ops/tick started"
    ended = next(line for line in about if line["event"] == "execution.ended")
    assert (ended["status"], ended["level"]) == ("succeeded", "info"), about
    failed = next(line for line in about if line["event"] == "notification.failed")
    assert (failed["level"], failed["trigger"], failed["kind"], failed["target"]) == (
        "warning", "onstart", "webhook", f"{base}/fail"
    ), about  # fmt: skip
    assert "500" in failed["message"], failed
    sent = next(line for line in about if line["event"] == "notification.sent")
    assert (sent["level"], sent["trigger"], sent["kind"], sent["target"]) == (
        "info",
        "onsuccess",
        "webhook",
        f"{base}/ok",
    )
    assert any(r["path"].startswith("/ok") for r in hooks.requests)


def first_execution_notified(log: Path) -> bool:
    """True once the log has a ``notification.sent`` line of the execution the first ``schedule.fired`` started."""
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.endswith("}")]
    fired = [line["execution_id"] for line in lines if line["event"] == "schedule.fired"]
    return bool(fired) and any(
        line["event"] == "notification.sent" and line["execution_id"] == fired[0] for line in lines
    )


def test_the_start_line_tells_runs_re_queued_from_an_ended_process_from_runs_taken_over(
    home: Home, tmp_path: Path
) -> None:
    crashed = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    identity = ProcessIdentity.of(crashed.pid)
    crashed.kill()
    crashed.wait()
    lost_host = ProcessIdentity("host-b", 1, "boot-b", "pid:[1]", "1")
    with Runtime(home, plugin_paths=[DEMO_PLUGIN]) as runtime:
        for _ in range(3):
            runtime.create_task("demo.Counter", {"polls": 0})
        now = time.time()  # the tasks' first runs are due
        owners = runtime.store.owners
        assert identity is not None
        owners.register("crashed", identity, purpose="xlr serve", now=now)  # its lease runs, its process ended
        owners.register("host-b:1:x", lost_host, purpose="xlr serve", now=now - 120, lease=60)  # its lease ran out
        [ended] = runtime.store.tasks.claim_due(now, 1, owner="crashed", lease=60)
        lost = runtime.store.tasks.claim_due(now, 2, owner="host-b:1:x", lease=-60)
    with Serve(home.root, tmp_path / "serve.log", DEMO_PLUGIN) as server:
        server.wait_ready()
        assert server.stop() == 0
    text = server.output()
    assert f"serving {home.root} (1 script run(s) re-queued from a process that ended, 2 taken over from 1 owner " \
        "whose lease ran out)" in text, text  # fmt: skip
    assert f"task 1: script run {ended.id} ({ended.script_path}) re-queued: the process running it ended" in text
    for run in lost:
        line = (
            f"task {run.task_id}: script run {run.id} ({run.script_path}) taken over from host-b:1:x: its lease ran out"
        )
        assert line in text, text


def test_the_start_line_summary_counts_runs_and_owners() -> None:
    run = ScriptRun(id=1, task_id="1", attempt=1, seq=1, script_path="a.py", due_at=0.0, state=RunState.DUE)
    assert Recovery().summary() == "no script run re-queued"
    assert Recovery(restarted=[run, run]).summary() == "2 script run(s) re-queued from a process that ended"
    assert Recovery(taken_over={"a": [run], "b": [run]}).summary() == (
        "2 script run(s) taken over from 2 owners whose leases ran out"
    )
