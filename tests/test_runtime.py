"""The Runtime over a real home with real worker processes: driving a task, serving, the home lock, wake-ups
from other processes, and a graceful SIGTERM."""

from __future__ import annotations

import gc
import logging
import os
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from task_helpers import DEMO_PLUGIN, XLR_COMMAND

from tests.postgres_helpers import free_port
from tests.waiting import DEADLINE, WatchedClock, joined, wait_until
from xlr_runtime.clock import VirtualClock
from xlr_runtime.errors import HomeLockedError
from xlr_runtime.home import Home
from xlr_runtime.runtime import HomeLock, Runtime, freeze_start_up_heap
from xlr_runtime.store import RunState, Store, TaskStatus

T0 = 1_700_000_000.0


def test_drive_runs_a_chain_of_five_second_polls_instantly_in_real_workers(home: Home) -> None:
    with Runtime(home, plugin_paths=[DEMO_PLUGIN], clock=VirtualClock(T0)) as runtime:
        task = runtime.create_task("demo.Counter", {"polls": "6"})
        started = time.monotonic()
        done = runtime.drive(task.id)
        # faster than real time: waiting out the 30 virtual seconds for real would take at least that long
        assert time.monotonic() - started < 30
        assert (done.status, done.properties["count"], done.status_line) == (TaskStatus.COMPLETED, 6, "6/6")
        assert [r.due_at - T0 for r in runtime.store.tasks.runs(task.id)] == [0, 5, 10, 15, 20, 25, 30]
        assert {r.worker_pid for r in runtime.store.tasks.runs(task.id)} - {None}


def test_a_second_runtime_cannot_take_a_served_home(home: Home) -> None:
    holder = HomeLock(home)
    holder.acquire("xlr serve")
    try:
        with Runtime(home, plugin_paths=[DEMO_PLUGIN]) as runtime:
            task = runtime.create_task("demo.Counter", {"polls": "0"})
            with pytest.raises(HomeLockedError) as caught:
                runtime.drive(task.id)
        assert str(caught.value) == f"home {home.root} is in use by pid {os.getpid()} (xlr serve)"
    finally:
        holder.release()
    assert HomeLock(home).try_acquire("next")


def ended(runtime: Runtime, task_id: str) -> Callable[[], bool]:
    return lambda: runtime.store.tasks.get(task_id).status.is_final


def test_serve_picks_up_work_created_elsewhere_at_once(home: Home) -> None:
    clock = WatchedClock("serve")
    # no HTTP server: the default port 5516 may be another process's (the suite's servers run side by side)
    server = Runtime(home, plugin_paths=[DEMO_PLUGIN], clock=clock, overrides={"http.listen": "off"})
    ready = threading.Event()
    thread = threading.Thread(target=server.serve, kwargs={"on_ready": ready.set}, name="serve")
    thread.start()
    try:
        wait_until(ready.is_set, "xlr serve did not get ready")
        with Runtime(home, plugin_paths=[DEMO_PLUGIN]) as client:
            for attempt in ("a worker starts", "a warm worker"):
                sleep = clock.next_sleep_without_deadline()
                task_id = client.create_task("demo.Counter", {"polls": "0"}, title=attempt).id
                wait_until(ended(client, task_id), f"{attempt}: the task did not end")
                assert client.store.tasks.get(task_id).status is TaskStatus.COMPLETED
                # that sleep had no deadline (no periodic check): only xlr.wake could end it
                assert clock.woken[sleep] is True
    finally:
        server.request_stop()
        joined(thread, "xlr serve did not stop")
        server.close()


def serve_until_ready(runtime: Runtime) -> threading.Thread:
    """``runtime.serve()`` in a thread named ``serve``, returned once it is ready (every service started)."""
    ready = threading.Event()
    thread = threading.Thread(target=runtime.serve, kwargs={"on_ready": ready.set}, name="serve")
    thread.start()
    wait_until(lambda: ready.is_set() or not thread.is_alive(), "serve did not get ready")
    assert thread.is_alive(), "serve stopped at start"
    return thread


def test_serve_takes_its_http_address_from_xlr_http(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    monkeypatch.setenv("XLR_HTTP", f"127.0.0.1:{port}")
    with Runtime(home, plugin_paths=[DEMO_PLUGIN]) as runtime:  # no override: the environment says where
        thread = serve_until_ready(runtime)
        try:
            response = requests.get(f"http://127.0.0.1:{port}/api/v1/tasks", timeout=DEADLINE)
            assert response.status_code == 200, response.text
        finally:
            runtime.request_stop()
            joined(thread, "serve did not stop")


def test_xlr_http_off_keeps_an_in_process_serve_from_serving_http(
    home: Home, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="xlr_runtime")
    monkeypatch.setenv("XLR_HTTP", "off")
    with Runtime(home, plugin_paths=[DEMO_PLUGIN]) as runtime:
        thread = serve_until_ready(runtime)
        runtime.request_stop()
        joined(thread, "serve did not stop")
    assert [r.getMessage() for r in caplog.records if r.name == "xlr_runtime.http"] == []


def test_sigterm_stops_serve_gracefully_and_requeues_a_long_script(home: Home) -> None:
    home.config_file.write_text('[settings]\n"serve.grace_period" = 0.3\n')
    with Runtime(home, plugin_paths=[DEMO_PLUGIN]) as runtime:
        task = runtime.create_task("demo.Sleep", {"seconds": "30"})
    command = [
        *XLR_COMMAND,
        "serve",
        "--home",
        str(home.root),
        "--plugins",
        str(DEMO_PLUGIN),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        with Store.open(home.database) as store:
            wait_until(lambda: store.tasks.runs(task.id)[0].state is RunState.RUNNING, "the script did not start")
            process.send_signal(signal.SIGTERM)  # the script sleeps 30 s: far past the 0.3 s grace period
            output, _ = process.communicate(timeout=DEADLINE)
            assert process.returncode == 0, output
            assert output.rstrip().endswith("Stopped.")
            [run] = store.tasks.runs(task.id)
            assert (run.state, run.restarts) == (RunState.DUE, 1)
            assert store.tasks.log(task.id)[-1].text == (
                "Script demo/Sleep.py did not end within the grace period; it is re-run when the runtime starts again."
            )
            assert store.tasks.get(task.id).status is TaskStatus.IN_PROGRESS
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_an_in_process_runtime_loads_the_plugins_of_plugins_path_as_the_cli_does(
    home: Home, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home.config_file.write_text(f'[settings]\n"plugins.path" = ["{DEMO_PLUGIN}"]\n')
    with Runtime(home) as runtime:
        assert "demo.Counter" in runtime.registry
    other = tmp_path / "other-plugin"
    other.mkdir()
    (other / "synthetic.xml").write_text(
        '<synthetic xmlns="http://www.xebialabs.com/deployit/synthetic">'
        '<type type="other.Step" extends="xlrelease.PythonScript"/></synthetic>'
    )
    monkeypatch.setenv("XLR_PLUGIN_PATH", str(other))  # added after plugins.path, as --plugins is
    with Runtime(home) as runtime:
        assert "demo.Counter" in runtime.registry and "other.Step" in runtime.registry


def test_runtime_rejects_a_bad_ci_at_start(home: Home) -> None:
    home.config_file.write_text('[ci.x]\ntype = "demo.Server"\npassword = "hunter2"\n')
    from xlr_runtime.errors import ConfigError

    with pytest.raises(ConfigError, match=r"xlr.toml:3: ci 'x': password properties cannot be written"):
        Runtime(home, plugin_paths=[DEMO_PLUGIN])


def test_home_path_may_be_given_as_a_path(tmp_path: Path) -> None:
    with Runtime(tmp_path / "h", plugin_paths=[DEMO_PLUGIN]) as runtime:
        assert runtime.home.database == tmp_path / "h" / "xlr.db"
        assert runtime.store.integrity_check() == "ok"


def test_a_store_given_to_the_runtime_is_used_and_left_open(tmp_path: Path) -> None:
    home = Home(tmp_path / "h").ensure()
    with Store.open(home.database, synchronous="OFF") as store:
        with Runtime(home, plugin_paths=[DEMO_PLUGIN], store=store) as runtime:
            assert runtime.store is store
            task = runtime.create_task("demo.Counter", {"polls": "0"})
        assert store.tasks.get(task.id).status is TaskStatus.PLANNED  # still open after the runtime closed
        assert store.execute("PRAGMA synchronous").fetchone()[0] == 0  # OFF: a throw-away database


def _legacy_plugin(root: Path) -> Path:
    plugin = root / "legacy"
    (plugin / "legacy").mkdir(parents=True)
    (plugin / "synthetic.xml").write_text(
        '<synthetic xmlns="http://www.xebialabs.com/deployit/synthetic">\n'
        '  <type type="legacy.Hello" extends="xlrelease.PythonScript">\n'
        '    <property name="greeting" category="output" required="false"/>\n'
        "  </type>\n</synthetic>\n",
        encoding="utf-8",
    )
    (plugin / "legacy" / "Hello.py").write_text('print "hello"\ngreeting = logger.__class__.__name__\n')
    return plugin


@pytest.mark.parametrize(("mode", "status"), [(None, TaskStatus.COMPLETED), ("off", TaskStatus.FAILED)])
def test_per_plugin_translate_mode_reaches_the_scripts(home: Home, mode: str | None, status: TaskStatus) -> None:
    plugin = _legacy_plugin(home.root.parent)
    if mode is not None:
        home.config_file.write_text(f'[plugins.legacy]\ntranslate = "{mode}"\n', encoding="utf-8")
    with Runtime(home, plugin_paths=[plugin], clock=VirtualClock()) as runtime:
        task = runtime.drive(runtime.create_task("legacy.Hello").id)
        log = [line.text for line in runtime.store.tasks.log(task.id)]
    assert task.status is status, (task.failure, log)
    if mode is None:  # translated, and the compat globals (logger) are in the namespace
        assert "hello" in log and task.properties["greeting"], log
    else:
        assert "Hello.py:1:" in (task.failure or ""), task.failure


def test_freezing_the_start_up_heap_collects_its_garbage_first_and_still_collects_later_garbage() -> None:
    class Node:
        def __init__(self) -> None:
            self.other: Node | None = None

    def cycle() -> weakref.ref[Node]:
        a, b = Node(), Node()
        a.other, b.other = b, a
        return weakref.ref(a)

    kept = Node()
    start_up_garbage = cycle()
    gc.unfreeze()
    try:
        freeze_start_up_heap()
        assert start_up_garbage() is None  # collected before the freeze, not kept for good
        # alive at the freeze: out of every generation the collector walks from now on
        assert gc.get_freeze_count() > 0
        assert not any(o is kept for generation in range(3) for o in gc.get_objects(generation=generation))
        later_garbage = cycle()
        gc.collect()
        assert later_garbage() is None
    finally:
        gc.unfreeze()
