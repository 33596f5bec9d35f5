"""``xlr tasks`` and ``xlr task show|log|abort|retry|skip ID``: see and operate on stored tasks."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import TYPE_CHECKING

import click

from xlr_runtime.cli.options import (
    CliContext,
    echo_json,
    echo_left_out,
    json_option,
    page_options,
    page_size,
    runtime_options,
)
from xlr_runtime.cli.progress import progress_option
from xlr_runtime.errors import HomeLockedError, StateError, UnknownTypeError
from xlr_runtime.store import Task, TaskStatus, TaskSummary

if TYPE_CHECKING:  # the runtime (types, workers, secrets) is imported only by the commands that need it
    from xlr_runtime.runtime import Runtime

_STATUSES = click.Choice([str(s) for s in TaskStatus])


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _runtime(ctx: CliContext) -> Runtime:
    from xlr_runtime.runtime import Runtime

    return Runtime(ctx.home, plugin_paths=ctx.option_plugin_paths, settings=ctx.settings)


@click.command(name="tasks")
@click.option("--status", "statuses", multiple=True, type=_STATUSES, help="Only tasks in this status (repeatable).")
@page_options("tasks")
@json_option
@runtime_options(read_only=True)
def tasks_command(ctx: CliContext, statuses: tuple[str, ...], limit: int | None, show_all: bool, as_json: bool) -> None:
    """List stored tasks, newest first, with title, status and status line.

    Shows the newest 50 unless --limit or --all says otherwise, and ends with a line saying how many older tasks
    are left out (on stderr with --json). An aborted or skipped task shows why instead of the status line its
    last script run left.

    Example: xlr tasks --status failed --json
    """
    shown = page_size(limit, show_all)
    wanted = [TaskStatus(s) for s in statuses]
    with ctx.open_store() as store:
        tasks = store.tasks.summaries(statuses=wanted, limit=shown)
        left_out = store.tasks.count(statuses=wanted) - len(tasks) if shown is not None and len(tasks) == shown else 0
    if as_json:
        echo_json([t.to_json() for t in tasks])
    elif not tasks:
        click.echo("No tasks.")
    else:
        _print_table(tasks)
    echo_left_out(left_out, len(tasks), "task", err=as_json)


def _print_table(tasks: list[TaskSummary]) -> None:
    widths = (
        max(2, *(len(t.id) for t in tasks)),
        max(4, *(len(t.type) for t in tasks)),
        min(TITLE_WIDTH, max(5, *(len(t.title) for t in tasks))),
        11,
    )
    click.echo(
        f"{'ID':>{widths[0]}}  {'TYPE':<{widths[1]}}  {'TITLE':<{widths[2]}}  {'STATUS':<{widths[3]}}  "
        "UPDATED              STATUS LINE"
    )
    for t in tasks:
        updated = _when(t.ended_at or t.started_at or t.created_at)
        click.echo(
            f"{t.id:>{widths[0]}}  {t.type:<{widths[1]}}  {_clip(t.title, widths[2]):<{widths[2]}}  "
            f"{t.status!s:<{widths[3]}}  {updated}  {_listed_line(t)}"
        )


#: The widest title ``xlr tasks`` shows (longer ones end with ``…``).
TITLE_WIDTH = 30


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _listed_line(task: TaskSummary) -> str:
    """What ``xlr tasks`` shows of a task's state: the status line, or why it failed, was aborted or skipped (the
    status line of its last run would read as if it were still running)."""
    return task.current_status_line or task.failure or ""


@click.group(name="task")
def task_group() -> None:
    """Show a stored task, its log, or abort, retry or skip it.

    Example: xlr task show 12
    """


@task_group.command(name="show")
@click.argument("task_id", metavar="ID")
@json_option
@runtime_options(read_only=True)
def show_command(ctx: CliContext, task_id: str, as_json: bool) -> None:
    """Show a task: status, times, property values (passwords masked) and its script runs.

    Example: xlr task show 12 --json
    """
    with ctx.open_store() as store:
        task = store.tasks.get(task_id)
        runs = store.tasks.runs(task_id)
    from xlr_runtime.engine import masked_properties  # without its type: possible secrets masked by their names
    from xlr_runtime.typesystem.registry import load_registry

    registry = load_registry(plugin_paths=ctx.plugin_paths, home=ctx.home)
    task_type = registry.get(task.type) if task.type in registry else None
    properties = masked_properties(task_type, task.properties)
    if as_json:
        shown = {**task.to_json(), "properties": properties, "runs": [r.to_json() for r in runs]}
        echo_json(shown if task_type is not None else {**shown, "type_loaded": False})
        return
    click.echo(f"Task {task.id}: {task.title} ({task.type})")
    if task_type is None:
        click.echo(
            f"  note:        type {task.type} is not loaded (name its plugin in plugins.path of xlr.toml, or "
            "give --plugins): "
            "values as stored, possible secrets masked"
        )
    click.echo(f"  status:      {task.status}" + (f" - {task.failure}" if task.failure else ""))
    stale = f" (before it was {task.status})" if task.status_line != task.current_status_line else ""
    click.echo(f"  status line: {task.status_line or '-'}{stale}")
    click.echo(f"  attempt:     {task.attempt}")
    click.echo(
        f"  created:     {_when(task.created_at)}   started: {_when(task.started_at)}   ended: {_when(task.ended_at)}"
    )
    click.echo("  properties:")
    for name, value in properties.items():
        click.echo(f"    {name} = {value!r}")
    click.echo("  script runs:")
    for run in runs:
        outcome = run.outcome or "-"
        extra = f" ({_failure_line(run.failure.kind, run.failure.message)})" if run.failure else ""
        rerun = f", re-run {run.restarts}x" if run.restarts else ""
        click.echo(
            f"    #{run.id} attempt {run.attempt}.{run.seq} {run.script_path} due {_when(run.due_at)} "
            f"{run.state} {outcome}{extra}{rerun}"
        )


@task_group.command(name="log")
@click.argument("task_id", metavar="ID")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines until the task ends.")
@json_option
@runtime_options(read_only=True)
def log_command(ctx: CliContext, task_id: str, follow: bool, as_json: bool) -> None:
    """Print a task's log: what its scripts printed, and the runtime's notes, each with its time (UTC).

    With --follow, new lines are printed as they are written until the task ends; --json then prints one JSON
    object per line instead of a list.

    Example: xlr task log 12 --follow
    """
    with ctx.open_store() as store:
        store.tasks.get(task_id)
        if as_json and not follow:
            lines = store.tasks.log(task_id)
            echo_json([ln.to_json() for ln in lines])
            return
        after = 0
        while True:
            final = store.tasks.get(task_id).status.is_final  # read before the lines: none is missed at the end
            for line in store.tasks.log(task_id, after=after):
                after = line.id
                click.echo(json.dumps(line.to_json()) if as_json else line.to_text())
            if not follow or final:
                return
            time.sleep(FOLLOW_INTERVAL)


#: Seconds between reads of ``xlr task log --follow``.
FOLLOW_INTERVAL = 0.2


@task_group.command(name="resume")
@click.argument("task_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the ended task as JSON instead of a summary.")
@progress_option
@runtime_options
def resume_command(ctx: CliContext, task_id: str, as_json: bool, progress: str) -> None:
    """Run a task that is not running (left by Ctrl-C of 'xlr run', or created with 'xlr run --detach') to its
    end here, showing its progress as 'xlr run' does, without starting 'xlr serve'.

    A script that was interrupted is run again. Refused when the task has ended, its type is not loaded, or
    another process holds the home (an 'xlr serve' of the home runs its tasks itself). Exit codes as 'xlr run'.

    Example: xlr task resume 12
    """
    from xlr_runtime.cli.progress import Progress, TaskWatcher, resolve_mode
    from xlr_runtime.cli.run import TaskDriver, run_to_end

    with _runtime(ctx) as runtime:
        task = runtime.store.tasks.get(task_id)
        if task.status.is_final:
            retry = (
                f"'xlr task retry {task.id}' runs it again from its first script"
                if task.status in (TaskStatus.FAILED, TaskStatus.ABORTED)
                else None
            )
            raise StateError(f"task {task.id} has ended ({task.status}): there is nothing to resume", hint=retry)
        if task.type not in runtime.registry:  # its script runs would fail the task
            raise UnknownTypeError(
                task.type, hint=f"Task {task.id} is unchanged: give its plugin with --plugins (env XLR_PLUGIN_PATH)."
            )
        command = "xlr task resume"
        if not runtime.lock.try_acquire(f"{command}, task {task.id}"):
            raise HomeLockedError(
                f"task {task.id} is not resumed here: home {ctx.home.root} is in use by "
                f"{runtime.lock.holder() or 'another process'}",
                hint=f"An 'xlr serve' of the home runs the task itself ('xlr task log {task.id} --follow' follows "
                "it); else wait until that process ends.",
            )
        view = Progress(TaskWatcher(runtime.store, task.id), resolve_mode(progress))
        view.echo(f"Task {task.id} ({task.type}) resumed in {ctx.home.root}")
        run_to_end(runtime, view, as_json, TaskDriver(runtime, task.id, on_wait=view.note, command=command))


def _operation(name: str, summary: str, example: str) -> click.Command:
    @click.command(name=name, help=f"{summary}\n\nExample: {example}")
    @click.argument("task_id", metavar="ID")
    @json_option
    @runtime_options
    def command(ctx: CliContext, task_id: str, as_json: bool) -> None:
        with _runtime(ctx) as runtime:
            task: Task = getattr(runtime, name)(task_id)
        if as_json:
            echo_json({k: v for k, v in task.to_json().items() if k != "properties"})
        else:
            click.echo(f"Task {task.id} is {task.status}" + (f" (attempt {task.attempt})" if name == "retry" else ""))

    return command


for _name, _summary, _example in (
    ("abort", "Abort a planned or in-progress task; its pending script run is cancelled.", "xlr task abort 12"),
    ("retry", "Retry a failed or aborted task from its first script, with its inputs.", "xlr task retry 12"),
    ("skip", "Skip a task that has not completed.", "xlr task skip 12"),
):
    task_group.add_command(_operation(_name, _summary, _example))


def _failure_line(kind: str, message: str) -> str:
    """``Kind: message``, unless the message names its kind already (``/p/x.py:3: ValueError: bad``)."""
    return message if not kind or f"{kind}:" in message or kind == "SystemExit" else f"{kind}: {message}"
