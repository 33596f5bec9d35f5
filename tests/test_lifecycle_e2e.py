"""The task lifecycle end to end through the `xlr` CLI: a canary password searched for in every CLI output and
in the raw SQLite files, creation errors that store nothing, configuration errors at start-up, two real
`xlr serve` processes on one home, and `xlr run` interrupted by SIGINT then finished by `xlr serve`."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from secret_forms import leaked_forms
from task_helpers import DEMO_PLUGIN

from tests.waiting import DEADLINE, joined, wait_until
from xlr_runtime.cli import main
from xlr_runtime.home import Home
from xlr_runtime.runtime import HomeLock
from xlr_runtime.secrets import SecretBox, is_sealed
from xlr_runtime.store import RunState, Store, TaskStatus

XLR = [sys.executable, "-c", "from xlr_runtime.cli import main; main()"]
TASK_CANARY = "TASK-c4n4ry/9q2 $w"  # ASCII: the store keeps it as JSON text, searched for below
CI_CANARY = "CI-c4n4ry+7f3 é"

SYNTHETIC = """<?xml version="1.0" encoding="UTF-8"?>
<synthetic xmlns="http://www.xebialabs.com/deployit/synthetic">
    <type type="canary.Server" extends="configuration.HttpConnection"/>
    <type type="canary.Leak" extends="xlrelease.PythonScript">
        <property name="scriptLocation" default="canary/Leak.py" hidden="true"/>
        <property name="server" category="input" kind="ci" referenced-type="canary.Server"/>
        <property name="secret" category="input" password="true"/>
        <property name="mode" category="input" required="false" default="ok"/>
        <property name="note" category="output" required="false"/>
        <property name="state" category="script" required="false"/>
    </type>
</synthetic>
"""

LEAK_PY = """import base64, json
from urllib.parse import quote, quote_plus
print("secret " + secret + " ci " + server['password'])
print(quote(secret, safe=''), quote_plus(server.password), json.dumps({'s': secret}))
print(base64.b64encode(('u:' + server.getPassword()).encode()).decode())
sys.stderr.write("stderr " + secret + "\\n")
task.setStatusLine("using " + secret)
note = "n " + server['password']
state = secret
releaseVariables['leak'] = secret
task.pythonScript.setProperty("note", "kept " + secret)
if mode == "fail":
    raise ValueError("bad " + secret + " " + server['password'])
if mode == "exit":
    sys.exit("exit " + secret)
"""


@pytest.fixture
def canary_plugin(tmp_path: Path) -> Path:
    plugin = tmp_path / "canary-plugin"
    (plugin / "canary").mkdir(parents=True)
    (plugin / "synthetic.xml").write_text(SYNTHETIC)
    (plugin / "canary" / "Leak.py").write_text(LEAK_PY)
    return plugin


def xlr(home: Home, plugin: Path, *args: str) -> Result:
    return CliRunner().invoke(
        main, [*args, "--home", str(home.root), "--plugins", str(plugin)], env={"CANARY_CI": CI_CANARY}
    )


def test_a_canary_password_appears_in_no_cli_output_and_nowhere_in_the_database_files(
    home: Home, canary_plugin: Path
) -> None:
    home.config_file.write_text(
        '[ci.srv]\ntype = "canary.Server"\nurl = "http://127.0.0.1:9"\nusername = "u"\n'
        'password = { env = "CANARY_CI" }\n'
    )
    task_args = ["--ci", "server=srv", "-i", f"secret={TASK_CANARY}"]
    outputs = [
        xlr(home, canary_plugin, "run", "canary.Leak", *task_args, "-i", "mode=fail"),
        xlr(home, canary_plugin, "run", "canary.Leak", *task_args, "-i", "mode=exit", "--json"),
        xlr(home, canary_plugin, "run", "canary.Leak", *task_args),
        xlr(home, canary_plugin, "run", "canary.Leak", *task_args, "--json"),
    ]
    assert [r.exit_code for r in outputs] == [1, 1, 0, 0], [r.output for r in outputs]
    for task_id in ("1", "2", "3", "4"):
        for command in (["task", "show"], ["task", "show", "--json"], ["task", "log"], ["task", "log", "--json"]):
            outputs.append(xlr(home, canary_plugin, *command[:2], task_id, *command[2:]))
    outputs += [xlr(home, canary_plugin, "tasks"), xlr(home, canary_plugin, "tasks", "--json")]
    outputs += [xlr(home, canary_plugin, "task", "retry", "1", "--json")]
    outputs += [xlr(home, canary_plugin, "task", "abort", "1", "--json")]
    outputs += [xlr(home, canary_plugin, "task", "retry", "2"), xlr(home, canary_plugin, "task", "skip", "2")]

    text = "\n".join(r.output + (r.stderr or "") for r in outputs)
    assert "********" in text
    assert "Traceback" not in text
    for form in leaked_forms(TASK_CANARY, "u") + leaked_forms(CI_CANARY, "u"):
        assert form not in text, f"{form!r} leaked in CLI output"

    # The raw SQLite files: the CI password is never stored (it is read from the environment per run) ...
    raw = b"".join(path.read_bytes() for path in home.root.glob("xlr.db*"))
    for form in leaked_forms(CI_CANARY, "u"):
        assert form.encode() not in raw, f"{form!r} of the CI password is in the database file"
    # ... and the task's own password input is stored sealed with the home's key, so a resumed run can open it.
    for form in leaked_forms(TASK_CANARY, "u"):
        assert form.encode() not in raw, f"{form!r} of the task password is in the database files"
    assert _cells_holding(home.database, TASK_CANARY) == set()
    box = SecretBox(home.root)
    with Store.open(home.database) as store:
        for task in store.tasks.list():
            assert is_sealed(task.inputs["secret"]) and is_sealed(task.properties["secret"])
            assert box.open_value(task.properties["secret"]) == box.open_value(task.inputs["secret"]) == TASK_CANARY
    for path in home.root.rglob("*"):
        if path.is_file() and not path.name.startswith("xlr.db"):
            assert TASK_CANARY.encode() not in path.read_bytes(), path


def _cells_holding(database: Path, needle: str) -> set[tuple[str, str]]:
    """(table, column) of every cell of every table whose text contains ``needle``."""
    cells: set[tuple[str, str]] = set()
    connection = sqlite3.connect(database)
    try:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            cursor = connection.execute(f'SELECT * FROM "{table}"')
            columns = [column[0] for column in cursor.description]
            for row in cursor:
                cells.update((table, c) for c, v in zip(columns, row, strict=True) if needle in str(v))
    finally:
        connection.close()
    return cells


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (
            ["demo.Call", "--ci", "server=local"],
            "Error: demo.Call: missing required input 'name'\nHint: Give it with -i name=VALUE.\n",
        ),
        (
            ["demo.Call", "-i", "name=x"],
            "Error: demo.Call: missing required input 'server'\n"
            "Hint: Give it with --ci server=NAME, a CI defined as [ci.NAME] in xlr.toml.\n",
        ),
        (["demo.Counter", "-i", "polls=many"], "Error: property 'polls' (integer): 'many' is not an integer\n"),
        (
            ["demo.Call", "--ci", "server=nowhere", "-i", "name=x"],
            "Error: input 'server': unknown CI 'nowhere'\n"
            "Hint: Define it as [ci.nowhere] in xlr.toml (known CIs: local, other).\n",
        ),
        (
            ["demo.Call", "--ci", "server=other", "-i", "name=x"],
            "Error: input 'server': CI 'other' is a demo.Settings, not a demo.Server\n",
        ),
        (
            ["demo.Counter", "-i", "colour=red"],
            "Error: demo.Counter has no property 'colour'\nHint: Its inputs: polls, interval, trace.\n",
        ),
        (
            ["demo.Nope"],
            "Error: unknown type 'demo.Nope'\nHint: Load its plugin: name it in plugins.path of xlr.toml's "
            "[settings], or give --plugins; "
            "'xlr types' lists the loaded types.\n",
        ),
    ],
)
def test_xlr_run_with_bad_inputs_says_why_in_one_line_and_stores_nothing(
    home: Home, args: list[str], stderr: str
) -> None:
    home.config_file.write_text(
        '[ci.local]\ntype = "demo.Server"\nurl = "http://x"\n[ci.other]\ntype = "demo.Settings"\n'
    )

    result = xlr(home, DEMO_PLUGIN, "run", *args)

    assert (result.exit_code, result.stdout, result.stderr) == (1, "", stderr)
    with Store.open(home.database) as store:
        assert store.tasks.list() == []
        assert store.query_one("SELECT count(*) AS n FROM script_runs")["n"] == 0  # type: ignore[index]


@pytest.mark.parametrize(
    ("file", "text", "message"),
    [
        (
            "conf/xl-release.conf",
            "# polls\nxl.durations.customScriptTaskScheduleInterval = 500 milliseconds\n",
            "{path}:2: default polling interval 0.5s is below the minimum of 1s",
        ),
        (
            "xlr.toml",
            '[settings]\n"schedule.default_interval" = 0.2\n',
            "{path}:2: default polling interval 0.2s is below the minimum of 1s",
        ),
        (
            "xlr.toml",
            '[settings]\n"schedule.min_interval" = 0\n',
            "{path}:2: schedule.min_interval 0s is below 1 second",
        ),
    ],
)
@pytest.mark.parametrize("command", [["serve"], ["run", "demo.Counter"]])
def test_an_interval_below_the_minimum_in_the_config_stops_the_start(
    home: Home, file: str, text: str, message: str, command: list[str]
) -> None:
    path = home.root / file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)

    result = xlr(home, DEMO_PLUGIN, *command)

    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "Error: " + message.format(path=path)
    assert "Traceback" not in result.output


def _home_args(home: Home) -> list[str]:
    return ["--home", str(home.root), "--plugins", str(DEMO_PLUGIN)]


def _serve(home: Home, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [*XLR, "serve", "--home", str(home.root), "--plugins", str(DEMO_PLUGIN)], stdout=out, stderr=out
        )


def _wait_for(condition, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    wait_until(condition, what, timeout=max(seconds, DEADLINE), interval=0.05)


def test_a_second_xlr_serve_on_the_same_home_is_refused_and_the_first_stops_on_sigterm(
    home: Home, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    first = _serve(home, log)
    try:
        _wait_for(lambda: "Serving " in log.read_text(), 30, "the first xlr serve did not start")
        second = subprocess.run(
            [*XLR, "serve", "--home", str(home.root), "--plugins", str(DEMO_PLUGIN)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert second.stderr == (
            f"Error: home {home.root} is in use by pid {first.pid} (xlr serve)\n"
            "Hint: Stop that process first, or use another --home (XLR_HOME).\n"
        )
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=DEADLINE) == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert log.read_text().rstrip().endswith("Stopped.")
    with Store.open(home.database) as store:
        assert store.integrity_check() == "ok"


def test_ctrl_c_of_xlr_run_leaves_the_task_for_xlr_serve_to_finish(home: Home, tmp_path: Path) -> None:
    run = subprocess.Popen(
        [*XLR, "run", "demo.Sleep", "-i", "seconds=2", "--home", str(home.root), "--plugins", str(DEMO_PLUGIN)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def running() -> bool:
            if not home.database.exists():
                return False
            with Store.open(home.database) as store:
                runs = store.tasks.runs("1") if store.tasks.list() else []
            return bool(runs) and runs[0].state is RunState.RUNNING

        _wait_for(running, 30, "xlr run did not start its script")
        run.send_signal(signal.SIGINT)
        output, _ = run.communicate(timeout=DEADLINE)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 130, output
    assert "Traceback" not in output
    assert output.rstrip().endswith("Interrupted: task 1 stays in_progress; 'xlr task resume 1' runs it on.")
    with Store.open(home.database) as store:
        assert store.tasks.log("1")[-1].text == (
            "Script demo/Sleep.py was interrupted (xlr run stopped); it is re-run when the runtime starts again."
        )

    log = tmp_path / "serve.log"
    server = _serve(home, log)
    try:

        def ended() -> bool:
            with Store.open(home.database) as store:
                return store.tasks.get("1").status.is_final

        _wait_for(ended, 60, f"xlr serve did not finish the task\n{log.read_text()}")
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=DEADLINE) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    with Store.open(home.database) as store:
        task = store.tasks.get("1")
        assert (task.status, task.properties["slept"]) == (TaskStatus.COMPLETED, True)
        [script_run] = store.tasks.runs("1")
        assert (script_run.state, script_run.outcome, script_run.restarts) == (RunState.DONE, "succeeded", 1)


def test_abort_retry_and_skip_through_the_cli_while_xlr_serve_runs(home: Home, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    server = _serve(home, log)
    try:
        _wait_for(lambda: "Serving " in log.read_text(), 30, "xlr serve did not start")
        with Store.open(home.database) as store:

            def states() -> list[tuple[int, str]]:
                return [(r.attempt, str(r.state)) for r in store.tasks.runs("1")]

            follower = subprocess.Popen(
                [*XLR, "run", "demo.Counter", "-i", "polls=1", "-i", "interval=3600", *_home_args(home)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            try:
                _wait_for(lambda: len(states()) == 2 if store.tasks.list() else False, 30, "no second script run")
                aborted = xlr(home, DEMO_PLUGIN, "task", "abort", "1")
                output, _ = follower.communicate(timeout=DEADLINE)
            finally:
                if follower.poll() is None:
                    follower.kill()
                    follower.wait()
            assert aborted.stdout == "Task 1 is aborted\n"
            assert follower.returncode == 1, output  # xlr run followed the served task to its end
            assert states() == [(1, "done"), (1, "cancelled")]

            assert xlr(home, DEMO_PLUGIN, "task", "retry", "1").stdout == "Task 1 is planned (attempt 2)\n"
            _wait_for(lambda: len(states()) == 4, 30, "xlr serve did not run the retried task")
            assert store.tasks.get("1").status is TaskStatus.IN_PROGRESS
            assert xlr(home, DEMO_PLUGIN, "task", "skip", "1").stdout == "Task 1 is skipped\n"
            assert states() == [(1, "done"), (1, "cancelled"), (2, "done"), (2, "cancelled")]
            assert store.tasks.get("1").status is TaskStatus.SKIPPED
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=DEADLINE) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_xlr_run_on_a_home_held_by_another_xlr_run_says_so_and_runs_once_it_is_free(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = HomeLock(home)
    assert holder.try_acquire("xlr run, task 9")
    refusals: list[bool] = []
    try_acquire = HomeLock.try_acquire

    def counted(lock: HomeLock, purpose: str) -> bool:
        got = try_acquire(lock, purpose)
        if not got:
            refusals.append(True)
        return got

    monkeypatch.setattr(HomeLock, "try_acquire", counted)

    def release_once_told() -> None:  # a second refusal comes after xlr run has said whose the home is
        try:
            wait_until(lambda: len(refusals) >= 2, "xlr run did not try the held home twice")
        finally:
            holder.release()

    releaser = threading.Thread(target=release_once_told, daemon=True)
    releaser.start()
    try:
        result = xlr(home, DEMO_PLUGIN, "run", "demo.Counter", "-i", "polls=0")
    finally:
        joined(releaser, "the holder was not released")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[:2] == [
        f"Task 1 (demo.Counter) created in {home.root}",
        f"The home is in use by pid {os.getpid()} (xlr run, task 9); task 1 runs there if it serves the home, "
        "else here once free.",
    ]
    assert result.stderr.rstrip().endswith("Task 1 completed")
