"""The HTTP server's own process, supervised by ``xlr serve``: restarted on the same port after ``kill -9``, never
left serving after serve is killed, stopped first and cleanly on SIGTERM, absent with ``--http off``, and its API
writes wake serve's scheduler and are logged in serve's log."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.http_helpers import DEMO_PLUGIN, TIMEOUT, start_serve, token_command
from tests.serve_helpers import Serve, wait_for
from xlr_runtime.cli.serve import JsonFormatter
from xlr_runtime.http.logpipe import PipeHandler, forward_records
from xlr_runtime.store import Store, TaskStatus


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Serve]:
    home = tmp_path / "home"
    home.mkdir()
    with start_serve(home, tmp_path / "serve.log") as serve:
        yield serve


def server_pids(serve: Serve) -> list[int]:
    """The HTTP server process ids serve logged, in the order it started them."""
    return [int(pid) for pid in re.findall(r"(?:server pid|HTTP server restarted \(pid) (\d+)", serve.output())]


def running(pid: int) -> bool:
    """True while ``pid`` runs (a zombie nobody has reaped yet has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def listening(url: str) -> bool:
    host, port = url.removeprefix("http://").removesuffix("/api/v1").rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=TIMEOUT).close()
    except ConnectionRefusedError:
        return False
    return True


def test_a_killed_server_process_is_logged_and_restarted_on_the_same_port(served: Serve) -> None:
    url = served.api_url()
    [first] = server_pids(served)
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: len(server_pids(served)) == 2, TIMEOUT, served.output)
    assert f"the HTTP server (pid {first}) was killed by signal SIGKILL; restarting it in 0.5 s" in served.output()
    response = requests.get(f"{url}/tasks", timeout=TIMEOUT)  # the same socket: no client sees another address
    assert response.status_code == 200, response.text
    assert served.stop() == 0, served.output()
    assert not running(server_pids(served)[1])


def test_a_server_that_cannot_start_is_logged_and_retried_after_longer_pauses(served: Serve) -> None:
    [first] = server_pids(served)
    (served.home / "xlr.toml").write_text('[settings]\n"workers.size" = "many"\n', encoding="utf-8")
    os.kill(first, signal.SIGKILL)  # its successor reads the home again, and fails
    wait_for(lambda: "exited with code 1; restarting it in 1.0 s" in served.output(), TIMEOUT, served.output)
    config = served.home / "xlr.toml"
    logged = f"ERROR the HTTP server cannot open the home: {config}:2: setting 'workers.size' must be int, got 'many'"
    assert logged + "\n" in served.output()
    assert "Traceback" not in served.output()
    assert served.stop() == 0, served.output()


def test_a_killed_serve_leaves_no_server_behind(served: Serve) -> None:
    url = served.api_url()
    [pid] = server_pids(served)
    stream = requests.get(f"{url}/tasks", timeout=TIMEOUT)
    assert stream.status_code == 200, stream.text
    served.kill()  # SIGKILL to serve and its process group; the server has its own session
    wait_for(lambda: not running(pid), TIMEOUT, f"HTTP server {pid} still runs after serve was killed")
    assert not listening(url)


def test_sigterm_stops_the_server_process_cleanly(served: Serve) -> None:
    [pid] = server_pids(served)
    assert served.stop() == 0, served.output()
    assert not running(pid)
    assert "restarting" not in served.output()
    assert "Traceback" not in served.output()


def test_http_off_starts_no_server_process(tmp_path: Path) -> None:
    with Serve(tmp_path / "home", tmp_path / "serve.log", DEMO_PLUGIN, args=("--http", "off")).wait_ready() as serve:
        children = Path(f"/proc/{serve.process.pid}/task/{serve.process.pid}/children").read_text().split()
        commands = [Path(f"/proc/{child}/cmdline").read_bytes() for child in children if running(int(child))]
        assert not [command for command in commands if b"xlr_runtime.http.process" in command], commands
        assert serve.stop() == 0, serve.output()
    assert "HTTP API at" not in serve.output()


def test_an_api_write_wakes_the_scheduler_and_is_logged_by_serve(served: Serve) -> None:
    url = served.api_url()
    headers = {"Authorization": f"Bearer {token_command(served.home, 'create', 'writer').strip()}"}
    # nothing is due: the scheduler sleeps until woken, so only the wake of the API's write starts this task
    created = requests.post(
        f"{url}/tasks", json={"type": "demo.Counter", "inputs": {"polls": 3, "interval": "3600"}}, headers=headers,
        timeout=TIMEOUT,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    task_id = str(created.json()["id"])

    def status() -> TaskStatus:
        with Store.open(served.home / "xlr.db") as store:
            return store.tasks.get(task_id).status

    wait_for(lambda: status() == TaskStatus.IN_PROGRESS, TIMEOUT, served.output)
    aborted = requests.post(f"{url}/tasks/{task_id}/abort", headers=headers, timeout=TIMEOUT)
    assert aborted.status_code == 200, aborted.text
    wait_for(lambda: f"task {task_id} (demo.Counter) ended: aborted" in served.output(), TIMEOUT, served.output)
    assert served.stop() == 0, served.output()


def test_log_records_of_the_server_process_reach_serves_loggers_with_their_fields(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="xlr_runtime")
    read, write = os.pipe()
    handler = PipeHandler(write)
    try:
        raise ValueError("boom")
    except ValueError as exc:
        failed = logging.LogRecord("xlr_runtime.http", logging.ERROR, __file__, 1, "%s failed", ("GET /x",), None)
        failed.exc_info = (type(exc), exc, exc.__traceback__)
    failed.event = "http.error"
    handler.handle(failed)
    handler.handle(logging.LogRecord("xlr_runtime.http", logging.DEBUG, __file__, 2, "too detailed", (), None))
    handler.close()
    forward_records(read)  # until the writer's end: serve reads in a thread of its own
    [record] = [r for r in caplog.records if r.name == "xlr_runtime.http"]
    assert (record.levelno, record.getMessage(), record.event) == (logging.ERROR, "GET /x failed", "http.error")
    assert record.exc_text.startswith("Traceback") and "ValueError: boom" in record.exc_text
    shown = json.loads(JsonFormatter().format(record))  # as serve --log-format json writes it
    assert (shown["event"], shown["message"], shown["traceback"]) == ("http.error", "GET /x failed", record.exc_text)


SERVE_WITH_HTTP = """
import sys, urllib.request
from xlr_runtime.http.plugin import xlr_serve_services
from xlr_runtime.runtime import Runtime

with Runtime(sys.argv[1], overrides={"http.listen": "127.0.0.1:0"}) as runtime:
    service = xlr_serve_services(runtime=runtime, scheduler=None)
    try:
        url = f"http://127.0.0.1:{service.port}/api/v1/tasks"
        with urllib.request.urlopen(url, timeout=60) as response:
            print(response.status, sorted({"starlette", "uvicorn", "anyio"} & set(sys.modules)))
    finally:
        service.request_stop()
"""


def test_serve_imports_no_web_stack_and_its_server_answers(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SERVE_WITH_HTTP, str(tmp_path / "home")],
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "200 []\n", done.stderr
