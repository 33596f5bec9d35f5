"""Issue 12, defect 5: a full disk, a read-only home, a home that cannot exist and an id SQLite cannot hold give a
one-line error, or (``xlr serve``) a log line and a retry with nothing lost, never a traceback.

The full disk and the read-only home are real: a small tmpfs (``mount -t tmpfs -o size=…``), remounted read-only.
That needs root, which CI runs as; elsewhere these tests skip.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_helpers import RELIABILITY_PLUGIN, Serve, all_final, wait_for
from task_helpers import DEMO_PLUGIN, XLR_COMMAND

from xlr_runtime.home import Home
from xlr_runtime.runtime import Runtime
from xlr_runtime.store import RunState, Store, TaskStatus

JOB_XML = (
    "<joblist><job><name>hello</name><description/><sequence><command><exec>echo hi</exec></command></sequence>"
    "</job></joblist>\n"
)


def mount(*args: str) -> None:
    result = subprocess.run(["mount", *args], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"mount {' '.join(args)} failed (root in CI can mount a tmpfs): {result.stderr.strip()}")


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A fresh 8 MB tmpfs."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    point = tmp_path / "fs"
    point.mkdir()
    mount("-t", "tmpfs", "-o", "size=8m", "tmpfs", str(point))
    yield point
    subprocess.run(["umount", "-l", str(point)], check=False)


def xlr(home: Path, *args: str, plugins: Path = DEMO_PLUGIN) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*XLR_COMMAND, *args, "--home", str(home), "--plugins", str(plugins)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], first_line: str) -> None:
    lines = result.stderr.splitlines()
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert lines and lines[0].startswith(first_line), result.stderr
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("Hint: ")), result.stderr


def fill(folder: Path) -> Path:
    """Write a file in ``folder`` until its file system is full."""
    filler = folder / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
        with contextlib.suppress(OSError):  # the last few bytes
            while True:
                out.write(b"\0" * 512)
    return filler


def test_a_full_disk_pauses_serve_with_one_log_line_and_loses_nothing(tmpfs: Path, tmp_path: Path) -> None:
    home = Home(tmpfs / "home").ensure()
    trace = tmp_path / "trace.txt"  # outside the full disk
    polls = 4
    with Runtime(home, plugin_paths=[RELIABILITY_PLUGIN]) as runtime:
        ids = [
            runtime.create_task("rel.Chatty", {"polls": str(polls), "size": "60000", "trace": str(trace)}).id
            for _ in range(8)
        ]
    with Serve(home.root, tmp_path / "serve.log") as serve:
        serve.wait_ready()
        wait_for(lambda: trace.exists() and len(trace.read_text().splitlines()) >= len(ids), 60, serve.output)
        filler = fill(tmpfs)
        wait_for(lambda: "database or disk is full" in serve.output() or not serve.alive(), 60, serve.output)
        assert serve.alive(), serve.output()
        filler.unlink()
        wait_for(lambda: not serve.alive() or all_final(home.database, ids), 120, serve.output)
        assert serve.alive(), serve.output()
        assert serve.stop() == 0, serve.output()
    output = serve.output()
    assert output.count("database or disk is full") == 1, output
    assert output.count("the store can be written again after") == 1, output
    assert "Traceback" not in output, output
    executed = collections.Counter(trace.read_text().splitlines())
    with Store.open(home.database) as store:
        assert store.integrity_check() == "ok"
        for task_id in ids:
            task = store.tasks.get(task_id)
            assert (task.status, task.properties["count"]) == (TaskStatus.COMPLETED, polls), task
            runs = store.tasks.runs(task_id)
            assert [(r.seq, r.state, r.outcome, r.restarts) for r in runs] == [
                (seq, RunState.DONE, "succeeded", 0) for seq in range(1, polls + 1)
            ]
            assert [executed[f"{task_id} {n}"] for n in range(1, polls + 1)] == [1] * polls  # each ran once
            assert sum(line.stream == "stdout" for line in store.tasks.log(task_id)) == polls * 600


def test_a_read_only_home_is_one_line_naming_it(tmpfs: Path, tmp_path: Path) -> None:
    home = tmpfs / "home"
    with Runtime(Home(home), plugin_paths=[DEMO_PLUGIN]) as runtime:
        runtime.create_task("demo.Counter", {"polls": "0"})
    job_file = tmp_path / "jobs.xml"
    job_file.write_text(JOB_XML)
    mount("-o", "remount,ro", str(tmpfs))
    database = str(home / "xlr.db")
    assert_one_line_error(xlr(home, "run", "demo.Counter", "-i", "polls=0"), f"Error: {database}: ")
    assert_one_line_error(xlr(home, "jobs", "load", "-p", "ops", "-f", str(job_file)), f"Error: {database}: ")
    assert_one_line_error(xlr(home, "serve"), f"Error: {database}: ")
    assert_one_line_error(xlr(home, "task", "abort", "1"), f"Error: {database}: ")
    missing = tmpfs / "missing"
    assert_one_line_error(
        xlr(missing, "run", "demo.Counter"), f"Error: {missing}: cannot create the home folder: Read-only file system"
    )


def test_a_read_only_home_left_by_a_crash_is_one_line_naming_it(tmpfs: Path, tmp_path: Path) -> None:
    """With the database's -wal and -shm files left by a crash, it opens for reading on a read-only disk: reads
    work and every write is one line."""
    home = tmpfs / "home"
    with Runtime(Home(home), plugin_paths=[DEMO_PLUGIN]) as runtime:
        runtime.create_task("demo.Counter", {"polls": "0"})
    job_file = tmp_path / "jobs.xml"
    job_file.write_text(JOB_XML)
    subprocess.run(  # a process that dies with the database open, as kill -9 leaves it
        [
            *XLR_COMMAND[:-1],
            f"import os; from xlr_runtime.store import Store; Store.open({str(home / 'xlr.db')!r}); os._exit(0)",
        ],
        check=True,
    )
    assert (home / "xlr.db-wal").exists()
    mount("-o", "remount,ro", str(tmpfs))
    database = str(home / "xlr.db")
    assert xlr(home, "tasks").returncode == 0
    assert_one_line_error(xlr(home, "run", "demo.Counter", "-i", "polls=0"), f"Error: {database}: ")
    assert_one_line_error(xlr(home, "jobs", "load", "-p", "ops", "-f", str(job_file)), f"Error: {database}: ")
    assert_one_line_error(xlr(home, "serve"), f"Error: {home / 'xlr.lock'}: cannot open the home's lock file")
    assert_one_line_error(xlr(home, "task", "abort", "1"), f"Error: {database}: attempt to write a readonly database")


@pytest.mark.parametrize(
    ("command", "error"),
    [
        (["run", "demo.Counter"], "cannot create the home folder: No such file or directory"),
        (["serve"], "cannot create the home folder: No such file or directory"),
        (["tasks"], "no such home folder"),  # a read-only command creates no home
        (["task", "show", "1"], "no such home folder"),
    ],
)
def test_a_home_that_cannot_be_created_is_one_line(command: list[str], error: str) -> None:
    assert_one_line_error(xlr(Path("/proc/xlr"), *command), f"Error: /proc/xlr: {error}")


@pytest.mark.parametrize("command", ["show", "log", "abort", "retry", "skip"])
def test_an_id_larger_than_sqlite_holds_is_no_such_task(tmp_path: Path, command: str) -> None:
    huge = "99999999999999999999999"
    (tmp_path / "home").mkdir()  # read-only commands (show, log) need an existing home
    assert_one_line_error(xlr(tmp_path / "home", "task", command, huge), f"Error: no task '{huge}'")
