"""``xlr serve`` logs one line per event: text by default, one JSON object per line with ``--log-format json``;
``-q`` keeps only warnings (a failed task), and the start and stop lines stay."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from task_helpers import DEMO_PLUGIN, XLR_COMMAND

from xlr_runtime.home import Home
from xlr_runtime.runtime import Runtime


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
