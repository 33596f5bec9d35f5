"""`xlr run`, `xlr serve`, `xlr tasks` and `xlr task …` through click's CliRunner, with real worker processes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from task_helpers import DEMO_PLUGIN, XLR_COMMAND

from tests.waiting import DEADLINE, wait_until
from xlr_runtime.cli import main
from xlr_runtime.home import Home
from xlr_runtime.runtime import HomeLock, Runtime
from xlr_runtime.store import RunCompletion, RunState, Store


def xlr(home: Home, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, [*args, "--home", str(home.root), "--plugins", str(DEMO_PLUGIN)], env=env)


def test_run_completes_and_prints_outputs(home: Home) -> None:
    result = xlr(home, "run", "demo.Counter", "-i", "polls=1", "-i", "interval=1")
    assert result.exit_code == 0, result.output
    assert "poll 1 of 1" in result.stderr
    assert result.stdout == "count = 1\ndone = 'yes'\n"
    assert result.stderr.rstrip().endswith("Task 1 completed"), result.stderr


def test_run_of_a_failing_task_exits_non_zero_with_the_reason(home: Home) -> None:
    result = xlr(home, "run", "demo.Fail", "-i", "message=no build")
    assert result.exit_code == 1, result.output
    fail_py = DEMO_PLUGIN / "demo" / "Fail.py"
    assert result.stderr.endswith(f"Task 1 failed: {fail_py}:2: Exception: no build\n"), result.stderr


def test_run_json_prints_the_ended_task(home: Home) -> None:
    result = xlr(home, "run", "demo.Counter", "-i", "polls=0", "--title", "nothing to count", "--json")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("{"), ("STDOUT", result.stdout, "STDERR", result.stderr)
    data = json.loads(result.stdout)
    assert (data["id"], data["title"], data["status"], data["properties"]["done"]) == (
        1,
        "nothing to count",
        "completed",
        "yes",
    )


def test_run_with_invalid_input_stores_nothing(home: Home) -> None:
    result = xlr(home, "run", "demo.Counter", "-i", "colour=red")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: demo.Counter has no property 'colour'\nHint: Its inputs: polls, interval, trace.\n"
    )
    assert xlr(home, "tasks").stdout == "No tasks.\n"


def test_run_with_a_malformed_assignment(home: Home) -> None:
    result = xlr(home, "run", "demo.Counter", "-i", "polls")
    assert result.exit_code == 2  # a usage error; click words the line, ours is the reason and the option
    (line,) = [line for line in result.stderr.splitlines() if "expected NAME=VALUE, got 'polls'" in line]
    assert "-i" in line


def test_run_with_a_ci_from_xlr_toml(home: Home) -> None:
    home.config_file.write_text(
        '[ci.local]\ntype = "demo.Server"\nurl = "http://127.0.0.1:9"\npassword = { env = "DEMO_PASSWORD" }\n'
    )
    result = xlr(home, "run", "demo.Call", "--ci", "server=local", "-i", "name=svc", env={"DEMO_PASSWORD": "s3cret"})
    assert result.exit_code == 0, result.output
    assert result.stdout == "url = 'http://127.0.0.1:9/svc'\n"


def test_tasks_list_filter_and_json(home: Home) -> None:
    xlr(home, "run", "demo.Counter", "-i", "polls=0")
    xlr(home, "run", "demo.Fail")
    listing = xlr(home, "tasks").stdout.splitlines()
    assert listing[0].split() == ["ID", "TYPE", "TITLE", "STATUS", "UPDATED", "STATUS", "LINE"]
    assert [line.split()[:4] for line in listing[1:]] == [
        ["2", "demo.Fail", "demo.Fail", "failed"],
        ["1", "demo.Counter", "Counter", "completed"],
    ]
    failed = json.loads(xlr(home, "tasks", "--status", "failed", "--json").stdout)
    assert [(t["id"], t["failure"]) for t in failed] == [(2, f"{DEMO_PLUGIN}/demo/Fail.py:2: Exception: boom")]


def test_show_masks_passwords_and_lists_runs(home: Home) -> None:
    home.config_file.write_text('[ci.local]\ntype = "demo.Server"\nurl = "http://x"\n')
    assert xlr(home, "run", "demo.Call", "--ci", "server=local", "-i", "name=a", "-i", "token=hunter2").exit_code == 0
    shown = xlr(home, "task", "show", "1")
    assert shown.exit_code == 0, shown.output
    assert "token = '********'" in shown.stdout and "hunter2" not in shown.stdout
    assert "#1 attempt 1.1 demo/Call.py due" in shown.stdout
    data = json.loads(xlr(home, "task", "show", "1", "--json").stdout)
    assert data["properties"]["token"] == "********"
    assert [r["script_path"] for r in data["runs"]] == ["demo/Call.py"]


def test_log_abort_retry_skip(home: Home) -> None:
    xlr(home, "run", "demo.Fail", "-i", "message=first")
    log = xlr(home, "task", "log", "1").stdout.splitlines()
    assert [line[20:] for line in log] == [
        "  about to fail",
        f"* Task failed: {DEMO_PLUGIN}/demo/Fail.py:2: Exception: first",
    ]
    assert xlr(home, "task", "abort", "1").stderr == "Error: task 1 is failed; cannot make it aborted\n"
    assert xlr(home, "task", "retry", "1").stdout == "Task 1 is planned (attempt 2)\n"
    assert xlr(home, "task", "abort", "1").stdout == "Task 1 is aborted\n"
    assert json.loads(xlr(home, "task", "skip", "1", "--json").stdout)["status"] == "skipped"
    assert xlr(home, "task", "show", "7").stderr == "Error: no task '7'\nHint: Run 'xlr tasks' to list tasks.\n"


def test_serve_refuses_a_home_held_by_another_runtime(home: Home) -> None:
    lock = HomeLock(home)
    lock.acquire("xlr serve")
    try:
        result = xlr(home, "serve")
    finally:
        lock.release()
    assert result.exit_code == 1
    assert result.stderr.endswith(
        f"Error: home {home.root} is in use by pid {os.getpid()} (xlr serve)\n"
        "Hint: Stop that process first, or use another --home (XLR_HOME).\n"
    )


@pytest.mark.parametrize("args", [["tasks"], ["task", "log", "1"]])
def test_reading_commands_work_on_an_empty_home(home: Home, args: list[str]) -> None:
    result = xlr(home, *args)
    assert result.exit_code in (0, 1)


def test_ctrl_c_leaves_the_task_stored_and_resumable(home: Home) -> None:
    command = [
        *XLR_COMMAND,
        "run",
        "demo.Sleep",
        "-i",
        "seconds=30",
        "--home",
        str(home.root),
        "--plugins",
        str(DEMO_PLUGIN),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: home.database.exists() and _running(home), "the script did not start", interval=0.05)
        process.send_signal(signal.SIGINT)  # it sleeps 30 s: surely still running
        output, _ = process.communicate(timeout=DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, output
    assert "Interrupted: task 1 stays in_progress; 'xlr task resume 1' runs it on." in output
    with Store.open(home.database) as store:
        [run] = store.tasks.runs("1")
        assert (run.state, run.restarts) == (RunState.DUE, 1)


def _running(home: Home) -> bool:
    with Store.open(home.database) as store:
        runs = store.tasks.runs("1") if store.tasks.list() else []
    return bool(runs) and runs[0].state is RunState.RUNNING


def test_tasks_shows_titles_and_why_a_task_was_aborted_not_its_last_status_line(home: Home) -> None:
    with Runtime(home, plugin_paths=[DEMO_PLUGIN]) as runtime:
        task = runtime.create_task("demo.Counter", {"polls": 3}, title="count to three, slowly, with a long title")
        runs = runtime.store.tasks.claim_due(time.time(), 1, owner=runtime.store.owner, lease=60)
        runtime.engine.commit(
            [RunCompletion(runs[0].id, "succeeded", time.time(), time.time(), status_line="0/3", next_script="x.py")]
        )
        assert runtime.store.tasks.get(task.id).status_line == "0/3"
        runtime.abort(task.id)
        skipped = runtime.create_task("demo.Counter", {"polls": 1})
        runtime.skip(skipped.id)
    rows = xlr(home, "tasks").stdout.splitlines()
    assert rows[1].split()[:4] == ["2", "demo.Counter", "Counter", "skipped"]
    assert re.search(r"skipped +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", rows[1].rstrip()), rows  # no status line
    assert "count to three, slowly, with …  aborted" in rows[2]
    assert rows[2].endswith("  Aborted by user") and "0/3" not in rows[2]
    shown = xlr(home, "task", "show", "1").stdout
    assert "  status line: 0/3 (before it was aborted)\n" in shown
    listed = {t["id"]: t for t in json.loads(xlr(home, "tasks", "--json").stdout)}
    assert [(t["status"], t["status_line"], t["last_status_line"], t["failure"]) for t in listed.values()] == [
        ("skipped", None, None, None),
        ("aborted", None, "0/3", "Aborted by user"),  # no status line as if running; the last one kept apart
    ]
    data = json.loads(xlr(home, "task", "show", "1", "--json").stdout)
    assert (data["status_line"], data["last_status_line"]) == (None, "0/3")


def test_log_follow_prints_lines_as_they_are_written_until_the_task_ends(home: Home, tmp_path: Path) -> None:
    with Runtime(home, plugin_paths=[DEMO_PLUGIN]) as runtime:
        task = runtime.create_task("demo.Counter", {"polls": 2, "interval": 1})
        out = tmp_path / "log.txt"
        with out.open("w") as handle:
            follower = subprocess.Popen(
                [*XLR_COMMAND, "task", "log", task.id, "--follow", "--home", str(home.root)],
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
            try:
                time.sleep(2)
                assert follower.poll() is None  # the task has not run yet: the follower waits for it
                runtime.drive(task.id)
                assert follower.wait(timeout=30) == 0
            finally:
                if follower.poll() is None:
                    follower.kill()
                    follower.wait()
    texts = [line[22:] for line in out.read_text().splitlines()]
    assert texts == ["poll 1 of 2", "poll 2 of 2"], out.read_text()
