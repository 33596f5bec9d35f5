"""``xlr jobs run --follow`` shows an execution's progress as ``xlr run`` shows a task's: without a terminal (or
with ``--progress plain``) one timestamped line per status change, per step start and end on each node and per
node's result, between the log lines; ``--progress rich`` a live status line whose final one stays printed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.transcripts import STAMP, index_of
from xlr_runtime.cli import main
from xlr_runtime.cli.progress import ExecutionWatcher
from xlr_runtime.store import Store

JOBS = """<joblist>
<job><name>greet</name><description/>
<context><options><option name='code' value='0'/></options></context>
<sequence keepgoing='false' strategy='node-first'>
<command><description>say hello</description><exec>echo hello</exec></command>
<command><exec>exit ${option.code}</exec></command>
</sequence></job>
<job><name>flaky</name><description/><retry>1</retry>
<sequence><command><exec>echo trying; exit 3</exec></command></sequence></job>
</joblist>"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    jobs = tmp_path / "jobs.xml"
    jobs.write_text(JOBS)
    root = tmp_path / "home"
    loaded = CliRunner().invoke(main, ["jobs", "load", "--home", str(root), "-p", "P", "-f", str(jobs)])
    assert loaded.exit_code == 0, loaded.output
    return root


def run(home: Path, job: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["jobs", "run", "--home", str(home), "-p", "P", "-j", job, "--follow", *args])


def node_of(home: Path) -> str:
    with Store.open(home / "xlr.db") as store:
        [node] = store.executions.get(1).succeeded_nodes or store.executions.get(1).failed_nodes
    return re.escape(node)


def test_plain_lines_per_step_start_and_end_on_each_node_and_per_node_result(home: Path) -> None:
    result = run(home, "greet")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    node = node_of(home)
    order = [
        index_of(lines, rf"{STAMP} execution 1 \[running\]"),
        index_of(lines, rf"{STAMP} execution 1 step 1 \(say hello\) started on {node}"),
        index_of(lines, r"hello"),  # the log, as it is written
        index_of(lines, rf"{STAMP} execution 1 step 1 \(say hello\) on {node} succeeded in \d+\.\d s"),
        index_of(lines, rf"{STAMP} execution 1 step 2 started on {node}"),
        index_of(lines, rf"{STAMP} execution 1 step 2 on {node} succeeded in \d+\.\d s"),
        index_of(lines, rf"{STAMP} execution 1 node {node} succeeded"),
        index_of(lines, rf"{STAMP} execution 1 \[succeeded\]"),
    ]
    assert order == sorted(order), result.stdout
    assert sum("step 1 (say hello) started" in line for line in lines) == 1  # one line per change, not per poll
    assert result.stderr.splitlines()[-1] == "Execution 1 succeeded"


def test_a_failed_step_and_node_say_why(home: Path) -> None:
    result = run(home, "greet", "--progress", "plain", "--", "-code", "4")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    node = node_of(home)
    order = [
        index_of(lines, rf"{STAMP} execution 1 step 2 on {node} failed in \d+\.\d s \(NonZeroResultCode\)"),
        index_of(lines, r"\[ERROR\] Step 2 failed: NonZeroResultCode: Result: 4"),
        index_of(lines, r"\[ERROR\] Execution failed"),
        index_of(lines, rf"{STAMP} execution 1 node {node} failed"),
        index_of(lines, rf"{STAMP} execution 1 \[failed\] Step 2 failed: Result: 4"),
    ]
    assert order == sorted(order), result.stdout


def test_the_retry_of_an_execution_is_followed(home: Path) -> None:
    result = run(home, "flaky")
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    order = [
        index_of(lines, rf"{STAMP} execution 1 step 1 started on .+"),
        index_of(lines, rf"{STAMP} execution 1 \[failed-with-retry\] Step 1 failed: Result: 3"),
        index_of(lines, r"Retry: execution 2 \(attempt 1\)"),
        index_of(lines, rf"{STAMP} execution 2 step 1 started on .+"),
        index_of(lines, rf"{STAMP} execution 2 \[failed\] Step 1 failed: Result: 3"),
    ]
    assert order == sorted(order), result.output
    assert lines.count("trying") == 2


def test_rich_leaves_the_final_status_line_printed_and_json_keeps_stdout(home: Path) -> None:
    rich = run(home, "greet", "--progress", "rich")
    assert rich.exit_code == 0, rich.output
    assert not re.search(rf"{STAMP} execution", rich.output)  # no plain lines
    assert "hello\n" in rich.stdout and "Execution 1 [succeeded]\n" in rich.stdout

    as_json = run(home, "greet", "--json", "--progress", "plain")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["status"] == "succeeded"  # the log and the progress went to stderr
    assert re.search(rf"^{STAMP} execution 2 \[succeeded\]$", as_json.stderr, re.MULTILINE), as_json.stderr


def test_the_watcher_reports_each_change_once(home: Path) -> None:
    assert run(home, "greet").exit_code == 0
    with Store.open(home / "xlr.db") as store:
        watcher = ExecutionWatcher(store, 1)
        first = [e.text for e in watcher.poll() if e.kind != "log"]
        assert first[0] == "[succeeded]" or "started on" in first[0]
        assert sum("started on" in text for text in first) == 2
        assert watcher.poll() == []  # nothing changed since
