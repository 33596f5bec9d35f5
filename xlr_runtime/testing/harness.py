"""A harness for plugin authors: run a task type to its end in a test, with no XL Release server and no waiting.

The harness owns a throw-away home, defines CIs, and drives tasks through the real engine, scheduler and worker
pool on a :class:`~xlr_runtime.clock.VirtualClock`, so a chain of 5-second polls runs at once::

    def test_build(xlr_harness, jenkins_server):
        jenkins_server.add_job("app")
        xlr_harness.ci("jenkins", "jenkins.Server", url=jenkins_server.url)
        outcome = xlr_harness.run("jenkins.Build", {"jenkinsServer": "jenkins", "jobName": "app"})
        assert outcome.status == "completed", outcome.log_text
        assert outcome.outputs["buildStatus"] == "SUCCESS"

With pytest, the ``xlr_harness`` fixture comes from the ``xlr_runtime`` pytest plugin (see ``docs/testing.md``).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlr_runtime.clock import VirtualClock
from xlr_runtime.home import Home
from xlr_runtime.runtime import Runtime
from xlr_runtime.scripting.pool import WorkerPool
from xlr_runtime.store.tasks import Task
from xlr_runtime.testing.cassettes import Cassette
from xlr_runtime.typesystem.registry import TypeRegistry, load_registry


@dataclass(frozen=True)
class TaskOutcome:
    """How a task ended: its stored record, output values and log (secrets already masked)."""

    task: Task
    outputs: dict[str, Any]
    log: list[str]

    @property
    def status(self) -> str:
        """The final status: ``completed``, ``failed``, ``aborted`` or ``skipped``."""
        return str(self.task.status)

    @property
    def status_line(self) -> str | None:
        """The last status line the task's scripts set."""
        return self.task.status_line

    @property
    def failure(self) -> str | None:
        """Why the task failed, if it did."""
        return self.task.failure

    @property
    def log_text(self) -> str:
        """The task log as one text, handy in assertion messages."""
        return "\n".join(self.log)


class TaskHarness:
    """Runs tasks of the plugins under test in a private home (see the module docstring).

    ``environ`` receives the environment variables that hold CI passwords (``os.environ`` by default; the pytest
    fixture passes a monkeypatched one so nothing leaks between tests). With a ``cassette``, the scripts' HTTP
    exchanges are recorded or replayed (:mod:`xlr_runtime.testing.cassettes`); it is written on :meth:`close`.
    """

    def __init__(
        self,
        home: Path,
        *,
        plugin_paths: Sequence[Path] = (),
        overrides: Mapping[str, Any] | None = None,
        environ: MutableMapping[str, str] | None = None,
        cassette: Cassette | None = None,
    ) -> None:
        self.home = Home(home).ensure()
        self.plugin_paths = tuple(plugin_paths)
        self.overrides = dict(overrides or {})
        self.clock = VirtualClock()
        self._environ = os.environ if environ is None else environ
        self.cassette = cassette
        self._cis: dict[str, dict[str, Any]] = {}
        self._pool: WorkerPool | None = None
        self._runtime: Runtime | None = None

    def ci(self, name: str, type_name: str, **values: Any) -> None:
        """Define (or redefine) the configuration item ``name`` of ``type_name`` with property ``values``.

        Values of password properties are passed to the runtime through an environment variable, as a user's
        ``xlr.toml`` would; everything else is written to the harness home's ``xlr.toml``.
        """
        self._cis[name] = {"type": type_name, **values}
        self._write_config()

    def run(self, type_name: str, inputs: Mapping[str, Any] | None = None, *, title: str | None = None) -> TaskOutcome:
        """Create a task of ``type_name`` with ``inputs`` (CI properties take a CI name) and drive it to its end."""
        runtime = self.runtime
        task = runtime.create_task(type_name, inputs, title=title)
        final = runtime.drive(task.id)
        task_type = runtime.registry.get(type_name)
        outputs = {p.name: final.properties.get(p.name) for p in task_type.properties.values() if p.is_output}
        log = [line.text for line in runtime.store.tasks.log(task.id)]
        return TaskOutcome(task=final, outputs=outputs, log=log)

    @property
    def runtime(self) -> Runtime:
        """The runtime over the harness home (reopened after a CI changes; the worker pool is kept)."""
        if self._runtime is None:
            if self._pool is None:
                self._pool = WorkerPool(2)
            self._runtime = Runtime(
                self.home,
                plugin_paths=self.plugin_paths,
                overrides=self.overrides or None,
                clock=self.clock,
                executor=self._pool if self.cassette is None else self.cassette.executor(self._pool),
                registry=self.registry,
            )
        return self._runtime

    def close(self) -> None:
        """Close the runtime, stop the worker pool and write the cassette (when recording)."""
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
        if self.cassette is not None:
            self.cassette.save()

    def __enter__(self) -> TaskHarness:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _write_config(self) -> None:
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None
        lines: list[str] = []
        for name, body in self._cis.items():
            lines.append(f"[ci.{json.dumps(name)}]")
            for key, value in body.items():
                if key in self._password_fields(body["type"]):
                    variable = f"XLR_HARNESS_CI_{_env_safe(name)}_{_env_safe(key)}"
                    self._environ[variable] = str(value)
                    lines.append(f"{key} = {{ env = {json.dumps(variable)} }}")
                else:
                    lines.append(f"{key} = {json.dumps(value)}")
            lines.append("")
        self.home.config_file.write_text("\n".join(lines), encoding="utf-8")

    @functools.cached_property
    def registry(self) -> TypeRegistry:
        """The types of the plugins under test, loaded once (a CI change reopens the runtime, not the plugins)."""
        return load_registry(plugin_paths=self.plugin_paths, home=self.home)

    def _password_fields(self, type_name: str) -> set[str]:
        return set(self.registry.get(type_name).password_properties)


def _env_safe(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text).upper()
