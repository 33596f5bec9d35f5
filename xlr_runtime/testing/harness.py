"""A harness for plugin authors: run a task type to its end in a test, with no XL Release server and no waiting.

The harness owns a throw-away home, defines CIs, and drives tasks through the real engine, scheduler and worker
pool on a :class:`~xlr_runtime.clock.VirtualClock`, so a chain of 5-second polls runs at once::

    def test_build(xlr_harness, jenkins_server):
        jenkins_server.add_job("app")
        xlr_harness.ci("jenkins", "jenkins.Server", url=jenkins_server.url)
        outcome = xlr_harness.run("jenkins.Build", {"jenkinsServer": "jenkins", "jobName": "app"})
        assert outcome.status == "completed", outcome.log_text
        assert outcome.outputs["buildStatus"] == "SUCCESS"

With pytest, the ``xlr_harness`` fixture comes from the ``xlr_runtime`` pytest plugin (see ``docs/testing.md``);
its harnesses share the session's worker pools (:mod:`xlr_runtime.testing.pools`).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlr_runtime.clock import VirtualClock
from xlr_runtime.errors import PluginError, UnknownTypeError
from xlr_runtime.home import Home
from xlr_runtime.runtime import Runtime
from xlr_runtime.store import Store
from xlr_runtime.store.tasks import ScriptRun
from xlr_runtime.task_records import Task
from xlr_runtime.testing.cassettes import Cassette
from xlr_runtime.testing.pools import SharedPools
from xlr_runtime.typesystem.model import TaskType
from xlr_runtime.typesystem.registry import TypeRegistry, load_registry


@dataclass(frozen=True)
class StatusLineChange:
    """One change of a task's status line: when (on the harness's clock) the script run that set it ended."""

    time: float
    text: str
    run_id: int


@dataclass(frozen=True)
class TaskOutcome:
    """How a task ended: its stored record, output values, script runs and log (secrets already masked).

    ``runs`` are the stored script runs, in order (``script_path``, ``outcome``, ``duration``, ``id``,
    ``status_line``, ``failure``); ``log`` the task log's lines.
    """

    task: Task
    outputs: dict[str, Any]
    log: list[str]
    runs: tuple[ScriptRun, ...] = ()

    @property
    def status(self) -> str:
        """The final status: ``completed``, ``failed``, ``aborted`` or ``skipped``."""
        return str(self.task.status)

    @property
    def status_line(self) -> str | None:
        """The last status line the task's scripts set."""
        return self.task.status_line

    @property
    def status_lines(self) -> list[StatusLineChange]:
        """Every change of the status line, in order: a run that set none, or the same text again, adds none."""
        changes: list[StatusLineChange] = []
        shown: str | None = None
        for run in self.runs:
            if run.status_line is not None and run.status_line != shown and run.ended_at is not None:
                changes.append(StatusLineChange(run.ended_at, run.status_line, run.id))
                shown = run.status_line
        return changes

    @property
    def failure(self) -> str | None:
        """Why the task failed, if it did (``path:line: Type: message`` for an exception)."""
        return self.task.failure

    @property
    def traceback(self) -> str | None:
        """The traceback of the failed script run (its frames in the plugin's scripts and modules), if any."""
        for run in reversed(self.runs):
            if run.failure is not None:
                return run.failure.traceback or run.failure.message
        return None

    @property
    def log_text(self) -> str:
        """The task log as one text, handy in assertion messages."""
        return "\n".join(self.log)


class TaskHarness:
    """Runs tasks of the plugins under test in a private home (see the module docstring).

    ``environ`` receives the environment variables that hold CI passwords (``os.environ`` by default; the pytest
    fixture passes a monkeypatched one so nothing leaks between tests). ``pools`` are the worker pools to run
    scripts in (the pytest fixture shares one :class:`SharedPools` per session); without it the harness starts
    its own and stops them in :meth:`close`. ``missing_plugin_message`` makes the error for a type that is not
    loaded (the fixture passes one saying how to point at the plugin when it found none).
    With a ``cassette``, the scripts' HTTP exchanges are recorded or replayed
    (:mod:`xlr_runtime.testing.cassettes`); it is written on :meth:`close`.
    """

    def __init__(
        self,
        home: Path,
        *,
        plugin_paths: Sequence[Path] = (),
        overrides: Mapping[str, Any] | None = None,
        environ: MutableMapping[str, str] | None = None,
        pools: SharedPools | None = None,
        missing_plugin_message: Callable[[str], str] | None = None,
        cassette: Cassette | None = None,
    ) -> None:
        self.home = Home(home).ensure()
        self.plugin_paths = tuple(plugin_paths)
        self.overrides = dict(overrides or {})
        self.clock = VirtualClock()
        self._environ = os.environ if environ is None else environ
        self._pools = SharedPools() if pools is None else pools
        self._owns_pools = pools is None
        self._missing_plugin_message = missing_plugin_message
        self.cassette = cassette
        self._cis: dict[str, dict[str, Any]] = {}
        self._ci_variables: set[str] = set()
        self._runtime: Runtime | None = None
        self._store: Store | None = None

    def ci(self, name: str, type_name: str, **values: Any) -> None:
        """Define (or redefine) the configuration item ``name`` of ``type_name`` with property ``values``.

        Values of password properties are passed to the runtime through an environment variable, as a user's
        ``xlr.toml`` would; everything else is written to the harness home's ``xlr.toml``.
        """
        self._type(type_name)
        self._cis[name] = {"type": type_name, **values}
        self._write_config()

    def run(self, type_name: str, inputs: Mapping[str, Any] | None = None, *, title: str | None = None) -> TaskOutcome:
        """Create a task of ``type_name`` with ``inputs`` (CI properties take a CI name) and drive it to its end."""
        task_type = self._type(type_name)
        runtime = self.runtime
        task = runtime.create_task(type_name, inputs, title=title)
        final = runtime.drive(task.id)
        outputs = {p.name: final.properties.get(p.name) for p in task_type.properties.values() if p.is_output}
        log = [line.text for line in runtime.store.tasks.log(task.id)]
        runs = tuple(run for run in runtime.store.tasks.runs(task.id) if run.attempt == final.attempt)
        return TaskOutcome(task=final, outputs=outputs, log=log, runs=runs)

    @property
    def runtime(self) -> Runtime:
        """The runtime over the harness home (reopened after a CI changes, or when the environment the scripts
        must see changed; the plugins are loaded once and the worker pools are shared)."""
        pool = self._pools.pool_for(self._worker_environ())
        if self._runtime is not None and self._runtime.executor is not pool:
            self._close_runtime()
        if self._runtime is None:
            self._runtime = Runtime(
                self.home,
                plugin_paths=self.plugin_paths,
                overrides=self.overrides or None,
                clock=self.clock,
                executor=pool if self.cassette is None else self.cassette.executor(pool),
                registry=self.registry,
                store=self.store,
            )
        return self._runtime

    @property
    def store(self) -> Store:
        """The harness home's database, kept open until :meth:`close`. The home is thrown away after the test, so
        it is written without fsync (``synchronous = OFF``): a test pays no disk flush."""
        if self._store is None:
            self._store = Store.open(self.home.database, synchronous="OFF")
        return self._store

    def close(self) -> None:
        """Close the runtime, stop the worker pools when the harness started them itself, and write the cassette
        (when recording)."""
        self._close_runtime()
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._owns_pools:
            self._pools.close()
        if self.cassette is not None:
            self.cassette.save()

    def __enter__(self) -> TaskHarness:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _close_runtime(self) -> None:
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None

    def _worker_environ(self) -> dict[str, str]:
        """What scripts see as ``os.environ``: this process's, without the CI password variables (the runtime
        reads those; a script gets the CI's values) and without the one pytest changes for every test."""
        hidden = self._ci_variables
        return {key: value for key, value in os.environ.items() if key not in hidden and key != _PYTEST_CURRENT_TEST}

    def _write_config(self) -> None:
        self._close_runtime()
        lines: list[str] = []
        for name, body in self._cis.items():
            lines.append(f"[ci.{json.dumps(name)}]")
            for key, value in body.items():
                if key in self._password_fields(body["type"]):
                    variable = f"XLR_HARNESS_CI_{_env_safe(name)}_{_env_safe(key)}"
                    self._environ[variable] = str(value)
                    self._ci_variables.add(variable)
                    lines.append(f"{key} = {{ env = {json.dumps(variable)} }}")
                else:
                    lines.append(f"{key} = {json.dumps(value)}")
            lines.append("")
        self.home.config_file.write_text("\n".join(lines), encoding="utf-8")

    @functools.cached_property
    def registry(self) -> TypeRegistry:
        """The types of the plugins under test, loaded once (a CI change reopens the runtime, not the plugins)."""
        return load_registry(plugin_paths=self.plugin_paths, home=self.home)

    def _type(self, type_name: str) -> TaskType:
        """The loaded type ``type_name``; for a type that is not loaded, the missing-plugin message if any."""
        __tracebackhide__ = True  # pytest shows the caller's line and this error, not this frame
        try:
            return self.registry.get(type_name)
        except UnknownTypeError:
            if self._missing_plugin_message is None:
                raise
            raise PluginError(self._missing_plugin_message(type_name)) from None

    def _password_fields(self, type_name: str) -> set[str]:
        return set(self.registry.get(type_name).password_properties)


#: Set by pytest to the test running, so different in every test: kept from scripts so that tests share pools.
_PYTEST_CURRENT_TEST = "PYTEST_CURRENT_TEST"


def _env_safe(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text).upper()
