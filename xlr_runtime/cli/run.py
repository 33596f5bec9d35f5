"""``xlr run TYPE -i name=value…``: create a task and drive it to its end in the foreground.

The task log streams as it grows; the status line is shown live on a terminal, and as one timestamped line per
change (and per script run start and end) otherwise (``--progress``, :mod:`xlr_runtime.cli.progress`).
Exit code 0 when the task completes, 1 when it fails, is aborted or skipped, 130 on Ctrl-C (the task stays
stored: ``xlr task resume ID`` runs it on in the foreground, with the same display, or ``xlr serve`` does). When
an ``xlr serve`` holds the home, ``xlr run`` only creates the task, wakes the server and follows the task; if the
server stops, it takes over. ``xlr run --detach`` only creates the task and prints its id.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NoReturn

import click

from xlr_runtime.cli.options import CliContext, echo_json, runtime_options
from xlr_runtime.cli.progress import Progress, TaskWatcher, progress_option, resolve_mode
from xlr_runtime.engine import masked_properties
from xlr_runtime.runtime import Runtime, StopFlag, run_until_stopped
from xlr_runtime.store import Task, TaskStatus

#: Exit code after Ctrl-C / SIGTERM (128 + SIGINT, as shells report it).
INTERRUPTED = 130
FOLLOW_INTERVAL = 0.2


def parse_assignments(values: tuple[str, ...], option: str) -> dict[str, Any]:
    """``NAME=VALUE`` items as a dict; a name given twice collects a list (for list and set kinds)."""
    result: dict[str, Any] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint=option)
        name = name.strip()
        if name in result:
            previous = result[name]
            result[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            result[name] = value
    return result


@click.command(name="run")
@click.argument("type_name", metavar="TYPE")
@click.option("-i", "--input", "inputs", multiple=True, metavar="NAME=VALUE", help="An input property (repeatable).")
@click.option(
    "--ci",
    "ci_refs",
    multiple=True,
    metavar="PROP=CI_NAME",
    help="A CI property set to a [ci.NAME] of xlr.toml (repeatable).",
)
@click.option("--title", default=None, help="Task title [default: the type's label].")
@click.option(
    "--detach",
    is_flag=True,
    help="Only create the task and print its id (with --json: the task); 'xlr serve' or 'xlr task resume ID' runs it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the ended task as JSON instead of a summary.")
@progress_option
@runtime_options
def run_command(
    ctx: CliContext,
    type_name: str,
    inputs: tuple[str, ...],
    ci_refs: tuple[str, ...],
    title: str | None,
    detach: bool,
    as_json: bool,
    progress: str = "auto",
    transcript: str = "stderr",
) -> None:
    """Create a task of TYPE and run it to its end here, showing its status line and log.

    Exit code 0 when the task completes, 1 otherwise; Ctrl-C leaves it stored, and 'xlr task resume ID' runs it
    on. The log and status go to stderr (outputs to stdout): without a terminal there (or with --progress
    plain) each status line change and script run start and end is one timestamped line. With --detach the task
    is only created: its id goes to stdout.

    Example: xlr run jenkins.Build --ci jenkinsServer=local -i jobName=app
    """
    values = parse_assignments(inputs, "-i")
    values.update(parse_assignments(ci_refs, "--ci"))
    mode = resolve_mode(progress, transcript)  # transcript: the stream (xlr demo asks for stdout)
    with Runtime(ctx.home, plugin_paths=ctx.option_plugin_paths, settings=ctx.settings) as runtime:
        task = runtime.create_task(type_name, values, title=title)
        if detach:
            if as_json:
                echo_json({k: v for k, v in task.to_json().items() if k != "properties"})
            else:
                click.echo(task.id)
            click.echo(
                f"Task {task.id} ({task.type}) created in {ctx.home.root}; 'xlr serve' or 'xlr task resume {task.id}' "
                "runs it.",
                err=True,
            )
            return
        view = Progress(TaskWatcher(runtime.store, task.id), mode, stream=transcript)
        view.echo(f"Task {task.id} ({task.type}) created in {ctx.home.root}")
        run_to_end(runtime, view, as_json, TaskDriver(runtime, task.id, on_wait=view.note))


class TaskDriver:
    """Drives a task when the home is free (or already locked by this process); otherwise follows it until it
    ends or the home frees up.

    ``on_wait`` is told once, with a one-line note, when the home is held by another process; ``command`` names
    this process in the home's lock; ``drove`` says whether this process drove the task (else another one ran it
    while this one only followed).
    """

    def __init__(
        self, runtime: Runtime, task_id: str, *, on_wait: Callable[[str], None], command: str = "xlr run"
    ) -> None:
        self.runtime = runtime
        self.task_id = task_id
        self.on_wait = on_wait
        self.command = command
        self.drove = False

    def __call__(self) -> None:
        runtime, task_id = self.runtime, self.task_id
        told = False
        while True:
            if runtime.lock.try_acquire(f"{self.command}, task {task_id}"):
                self.drove = True
                runtime.drive(task_id, command=self.command)
                return
            if runtime.store.tasks.get(task_id).status.is_final or runtime.stop_requested:
                return
            if not told:
                holder = runtime.lock.holder() or "another process"
                self.on_wait(
                    f"The home is in use by {holder}; task {task_id} runs there if it serves the home, "
                    "else here once free."
                )
                told = True
            time.sleep(FOLLOW_INTERVAL)


def run_to_end(runtime: Runtime, view: Progress, as_json: bool, driver: TaskDriver) -> NoReturn:
    """Run ``driver`` showing ``view`` until the task ends or Ctrl-C, report the task and exit: 0 when it
    completed, 1 when it ended otherwise, 130 when interrupted (saying how to go on)."""
    flag = StopFlag()
    restore = flag.install()
    try:
        with view:
            run_until_stopped(driver, flag, runtime.request_stop, on_check=view.refresh)
    finally:
        restore()
    task = runtime.store.tasks.get(driver.task_id)
    if flag.requested and not task.status.is_final:
        if driver.drove:
            view.echo(f"Interrupted: task {task.id} stays {task.status}; 'xlr task resume {task.id}' runs it on.")
        else:
            view.echo(
                f"Stopped following task {task.id} ({task.status}): the xlr serve holding the home runs it "
                f"('xlr task log {task.id} --follow' follows it); if none does, 'xlr task resume {task.id}' runs it."
            )
        raise SystemExit(INTERRUPTED)
    _report(runtime, task, view, as_json)
    raise SystemExit(0 if task.status is TaskStatus.COMPLETED else 1)


def _report(runtime: Runtime, task: Task, view: Progress, as_json: bool) -> None:
    task_type = runtime.registry.get(task.type) if task.type in runtime.registry else None
    properties = masked_properties(task_type, task.properties)
    if as_json:
        echo_json({**task.to_json(), "properties": properties})
        return
    outputs = [p.name for p in task_type.properties.values() if p.is_output] if task_type else []
    for name in outputs:
        click.echo(f"{name} = {properties.get(name)!r}")
    message = f"Task {task.id} {task.status}"
    view.echo(message + (f": {task.failure}" if task.failure else ""))
