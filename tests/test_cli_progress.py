"""Progress without a terminal: ``xlr run`` (on stderr, beside its outputs on stdout) and ``xlr demo`` (all on
stdout, so ``xlr demo > out.txt`` holds it) print one timestamped line per status line change and per script run
start and end when their stream is not a terminal (CliRunner's, a file); ``--progress rich`` keeps the final status
line printed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from tests.transcripts import STAMP, index_of
from xlr_runtime.cli import main
from xlr_runtime.cli.progress import TaskWatcher, status_text
from xlr_runtime.home import Home
from xlr_runtime.runtime import Runtime

PLUGIN = Path(__file__).parent / "data" / "plugins" / "demo"
XLR = [sys.executable, "-c", "from xlr_runtime.cli import main; main()"]
DEMO = ["demo", "--queue-seconds", "0.5", "--build-seconds", "0.5"]


def run_counter(home: Home, *extra: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    args = ["run", "demo.Counter", "-i", "polls=1", "-i", "interval=1", *extra, "--home", str(home.root)]
    result = CliRunner().invoke(main, [*args, "--plugins", str(PLUGIN)], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_xlr_run_without_a_terminal_prints_each_change_as_a_timestamped_line(home: Home) -> None:
    code, stdout, stderr = run_counter(home)
    assert code == 0, stderr
    assert stdout == "count = 1\ndone = 'yes'\n"  # the outputs alone
    lines = stderr.splitlines()
    assert lines[0] == f"Task 1 (demo.Counter) created in {home.root}"
    order = [
        index_of(lines, rf"{STAMP} task 1 script demo/Counter\.py started"),
        index_of(lines, rf"{STAMP} task 1 script demo/Counter\.py ended: succeeded in \d+\.\d s"),
        index_of(lines, rf"{STAMP} task 1 \[in progress\] 0/1"),
        index_of(lines, rf"{STAMP} task 1 script demo/Counter\.next\.py started"),
        index_of(lines, r"poll 1 of 1"),  # the task log, as it grows
        index_of(lines, rf"{STAMP} task 1 script demo/Counter\.next\.py ended: succeeded in \d+\.\d s"),
        index_of(lines, rf"{STAMP} task 1 \[completed\] 1/1"),  # the final status line stays
        index_of(lines, r"Task 1 completed"),
    ]
    assert order == sorted(order), stderr
    assert sum(" [in progress] 0/1" in line for line in lines) == 1  # one line per change, not per poll


def test_json_keeps_stdout_for_the_task(home: Home) -> None:
    code, stdout, stderr = run_counter(home, "--json")
    assert code == 0, stderr
    assert json.loads(stdout)["status"] == "completed"
    assert re.search(rf"^{STAMP} task 1 \[completed\] 1/1$", stderr, re.MULTILINE), stderr


def test_progress_rich_leaves_the_final_status_line_printed(home: Home) -> None:
    code, stdout, stderr = run_counter(home, "--progress", "rich")
    assert code == 0, stderr
    assert not re.search(rf"{STAMP} task 1", stdout + stderr)  # no plain lines
    assert "Task 1 [completed] 1/1\n" in stderr
    assert stdout == "count = 1\ndone = 'yes'\n"


def test_xlr_progress_chooses_the_mode(home: Home) -> None:
    code, stdout, stderr = run_counter(home, env={"XLR_PROGRESS": "rich"})
    assert code == 0, stderr
    assert "Task 1 [completed] 1/1\n" in stderr and " task 1 [" not in stdout


def test_xlr_demo_to_a_file_shows_the_status_lines_and_the_script_runs(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    with out.open("w") as handle:  # stdout is a file: no terminal, as in a CI log
        done = subprocess.run([*XLR, *DEMO], stdout=handle, stderr=subprocess.PIPE, timeout=120, check=False)
    text = out.read_text()
    assert done.returncode == 0, text + done.stderr.decode()
    lines = text.splitlines()
    order = [
        index_of(lines, r"Jenkins test server at .*"),
        index_of(lines, rf"{STAMP} task 1 script jenkins/Build\.py started"),
        index_of(lines, rf"{STAMP} task 1 \[in progress\] Build queued"),
        index_of(lines, rf"{STAMP} task 1 script jenkins/Build\.wait-for-queue\.py started"),
        index_of(lines, rf"{STAMP} task 1 \[in progress\] Running build #1"),
        index_of(lines, rf"{STAMP} task 1 \[completed\] Build #1: SUCCESS"),
        index_of(lines, r"buildStatus = 'SUCCESS'"),
        index_of(lines, r"Task 1 completed"),
    ]
    assert order == sorted(order), text


def test_an_aborted_task_shows_why_not_the_status_line_of_its_last_run(home: Home) -> None:
    with Runtime(home, plugin_paths=[PLUGIN]) as runtime:
        task = runtime.create_task("demo.Counter", {"polls": 3})
        runtime.store.tasks.claim_due(time.time(), 1, owner="test", lease=60)
        watcher = TaskWatcher(runtime.store, task.id)
        assert [e.text for e in watcher.poll() if e.kind != "log"] == [
            "script demo/Counter.py started",
            "[in progress]",
        ]
        aborted = runtime.abort(task.id)
        assert status_text(aborted) == "[aborted] Aborted by user"
        assert [e.text for e in watcher.poll() if e.kind == "status"] == ["[aborted] Aborted by user"]
        assert watcher.poll() == []  # nothing changed since
