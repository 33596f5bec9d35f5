"""Real ``xlr serve`` subprocesses for the reliability tests: start one, wait on conditions (never on a bare
sleep), stop it with SIGTERM or kill it (and its workers) with SIGKILL."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from task_helpers import XLR_COMMAND

from xlr_runtime.store import Store, TaskStatus

RELIABILITY_PLUGIN = Path(__file__).parent / "data" / "plugins" / "reliability"


class Serve:
    """One ``xlr serve --home HOME --plugins …`` process writing its output to ``log``."""

    def __init__(
        self, home: Path, log: Path, *plugins: Path, args: Sequence[str] = (), env: Mapping[str, str] | None = None
    ) -> None:
        self.home = home
        self.log = log
        self.starts_before = self.output().count("Serving ")
        with log.open("ab") as out:
            command = [*XLR_COMMAND, "serve", "--home", str(home), *args]
            for plugin in plugins or (RELIABILITY_PLUGIN,):
                command += ["--plugins", str(plugin)]
            self.process = subprocess.Popen(
                command, stdout=out, stderr=out, start_new_session=True, env={**os.environ, **(env or {})}
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_ready(self, timeout: float = 60) -> Serve:
        """Until this process says it serves (recovery is done by then)."""
        wait_for(lambda: self.output().count("Serving ") > self.starts_before, timeout, self.output)
        return self

    def api_url(self) -> str:
        """The HTTP API's base URL, as this process logged it (start it with ``args=("--http", "127.0.0.1:0")``)."""
        found = re.findall(r"HTTP API at (http://\S+)", self.output())
        assert found, self.output()
        return found[-1]

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, then its exit code."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL to the server and its workers (its whole process group), as a crash."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def __enter__(self) -> Serve:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


def wait_for(condition: Callable[[], object], timeout: float, explain: Callable[[], str] | str = "") -> None:
    """Until ``condition()`` is true, checking every 50 ms; fail after ``timeout`` seconds with ``explain``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            detail = explain() if callable(explain) else explain
            raise AssertionError(f"condition not met within {timeout} s\n{detail[-4000:]}")
        time.sleep(0.05)


def all_final(database: Path, task_ids: list[str]) -> bool:
    with Store.open(database) as store:
        return all(store.tasks.get(task_id).status.is_final for task_id in task_ids)


def statuses(database: Path, task_ids: list[str]) -> dict[str, TaskStatus]:
    with Store.open(database) as store:
        return {task_id: store.tasks.get(task_id).status for task_id in task_ids}
