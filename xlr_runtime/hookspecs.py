"""The hooks xlr-runtime offers to plugins (entry-point group ``xlr_runtime``).

Implement them with ``from xlr_runtime import hookimpl``. Hooks are always called with keyword arguments;
a misspelt implementation fails at start-up (``PluginManager.check_pending``). Built-in features use the same
hooks (see :data:`xlr_runtime.plugins.DEFAULT_PLUGINS`). Every hook is listed in ``docs/plugins.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    import click

    from xlr_runtime.task_records import Task

hookspec = pluggy.HookspecMarker("xlr_runtime")


class Service(Protocol):
    """A service started beside the task scheduler by the ``xlr_serve_services`` hook."""

    def request_stop(self) -> None:
        """Ask the service to stop (from any thread); it ends its own threads."""


@hookspec
def xlr_plugin_paths() -> list[Path | str]:
    """Extra plugin locations: folders or ``.jar``/``.zip`` archives with ``synthetic.xml`` at their root.

    Returns a list of paths; results of all implementations are loaded after the bundled plugins and before
    the home's ``plugins/`` and ``ext/`` folders.
    """


@hookspec
def xlr_base_type_files() -> list[Path | str]:
    """Extra synthetic.xml files holding base types, loaded with the runtime's own ``synthetic/`` data.

    Returns a list of file paths. Use it to ship stock definitions of built-in types a plugin extends.
    """


@hookspec
def xlr_register_commands(cli: click.Group) -> None:
    """Add commands to the ``xlr`` CLI.

    ``cli`` is the root click group; call ``cli.add_command(...)`` on it. Returns nothing.
    """


@hookspec
def xlr_serve_services(runtime: Any, scheduler: Any) -> Service | None:
    """Start a service that runs beside the task scheduler while ``xlr serve`` serves a home.

    ``runtime`` is the serving :class:`xlr_runtime.runtime.Runtime` (its store, settings, clock, plugin
    manager); ``scheduler`` its :class:`xlr_runtime.scheduler.Scheduler` (``scheduler.engine`` creates tasks,
    ``scheduler.wake()`` wakes it). Called after the runs of dead processes are re-queued. Returns a started
    service (anything with ``request_stop()``, called when serve stops) or ``None``. The built-in Rundeck
    execution, schedule and notification loops start here (``xlr_runtime.rundeck.plugin``).
    """


@hookspec
def xlr_task_started(task: Task) -> None:
    """A task's first script run was handed to a worker (the task moved from planned to in progress).

    ``task`` is the stored task after the change, the record the scheduler builds the run's request from (and
    keeps for the task's next runs): read it, never change its dicts. Returns nothing; called from the
    scheduler's thread, so keep it short (queue slow work such as e-mail elsewhere).
    """


@hookspec
def xlr_task_ended(task: Task) -> None:
    """A task reached a final status: completed, failed, aborted or skipped.

    ``task`` is the stored task after the change (``task.status``, ``task.failure``).
    Returns nothing; called after the change is committed.
    """


@hookspec
def xlr_script_globals() -> dict[str, Any]:
    """Extra globals for every plugin script (``logger``, ``CredentialsFallback`` come from here).

    Returns a dict of name -> value. Each worker process calls the hook once at start-up and merges the
    results into every script's namespace, below the task's own names (properties, ``task``, CIs), which win.
    """


@hookspec
def xlr_rundeck_step_types() -> dict[str, Callable[..., Mapping[str, str] | None]]:
    """Step types for Rundeck job workflows (``<step-plugin type=…>`` / ``<node-step-plugin type=…>``).

    Returns a dict of type name -> function. A step calls ``function(configuration=..., call=...)`` with the
    step's configuration (``${…}`` already expanded) and a :class:`xlr_runtime.rundeck.run.workflow.StepCall`
    (``node``, ``context``, ``log(text)``); the function returns data values (``${data.KEY}`` in later steps)
    or ``None``; an exception fails the step with its message. A loaded task type of the same name loses.
    """


@hookspec
def xlr_notification_types() -> dict[str, Callable[..., None]]:
    """Notification types for Rundeck jobs (``<notification><onsuccess><plugin type=…>``).

    Returns a dict of type name -> function. A notification calls ``function(trigger=..., execution=...,
    configuration=...)`` with Rundeck's trigger name (``start``, ``success``, ``failure``, ``avgduration``,
    ``retryablefailure``), the execution data (the ``execution`` object of a JSON webhook payload, secure
    options masked) and the plugin's configuration (``${job.*}``, ``${execution.*}``, ``${option.*}`` expanded).
    Called from the notification thread after the execution's change is committed; an exception marks the
    delivery failed (logged to the execution log), never the execution.
    """
