"""Run a task's scripts through the real worker pool the way the scheduler does, without the scheduler.

:func:`run_script_chain` starts at the task type's script, carries the properties each run sets into the next,
and follows ``task.schedule()`` until a run schedules nothing (or ``max_runs`` runs). The plugin tests use it to
drive a polling task (Jenkins ``Build`` → ``wait-for-queue`` → ``wait-for-build``) against a test server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlr_runtime.scripting.contract import CiValue, ScriptRunRequest, ScriptRunResult
from xlr_runtime.scripting.pool import WorkerPool
from xlr_runtime.typesystem.registry import TypeRegistry


@dataclass
class ScriptChain:
    """What a chain ran: each script path with its result, the properties at the end, and whether it ended."""

    results: list[tuple[str, ScriptRunResult]] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    ended: bool = False

    @property
    def scripts(self) -> list[str]:
        """The script paths run, in order."""
        return [path for path, _ in self.results]

    @property
    def last(self) -> ScriptRunResult:
        """The result of the last run."""
        return self.results[-1][1]

    @property
    def status_lines(self) -> list[str | None]:
        """The status line after each run."""
        return [result.status_line for _, result in self.results]

    @property
    def log(self) -> str:
        """Every run's log lines as one text."""
        return "\n".join(line.text for _, result in self.results for line in result.log)

    @property
    def failure(self) -> str | None:
        """The one-line reason the last run failed with (``sys.exit("reason")``), or None."""
        return self.last.failure.message if self.last.failure is not None else None


def run_script_chain(
    pool: WorkerPool,
    registry: TypeRegistry,
    type_name: str,
    cis: Mapping[str, CiValue],
    inputs: Mapping[str, Any],
    *,
    title: str = "Build",
    max_runs: int = 30,
    script_root: Path | None = None,
    after: Callable[[int, str, ScriptRunResult], None] | None = None,
    start: str | None = None,
) -> ScriptChain:
    """Run task type ``type_name`` with ``inputs`` (a CI property names its key in ``cis``) to its end.

    ``script_root`` asserts every script comes from that plugin directory; ``after(n, path, result)`` runs
    after each script; ``start`` is the first script (default: the type's own).
    """
    task_type = registry.get(type_name)
    chain = ScriptChain(properties={name: None for name in task_type.properties})
    chain.properties.update(inputs)
    path = start or task_type.script_location
    for number in range(1, max_runs + 1):
        script = registry.find_script(task_type, path)
        assert script is not None and (script_root is None or str(script_root) in script.display_path), path
        request = ScriptRunRequest(
            run_id=number,
            task_id="T1",
            task_type=task_type,
            title=title,
            script_path=path,
            script_file=script.display_path,
            source=script.read(),
            properties=dict(chain.properties),
            cis=dict(cis),
            timeout=30,
        )
        result = pool.run_sync(request)
        chain.results.append((path, result))
        chain.properties.update(result.properties)
        if after is not None:
            after(number, path, result)
        if result.schedule is None:
            chain.ended = True
            return chain
        path = result.schedule.script_path
    return chain
