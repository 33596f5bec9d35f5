"""``xlr jobs run``, ``xlr adhoc``, ``xlr executions`` and ``xlr execution show|log|abort|resume``: run stored
Rundeck jobs and ad hoc commands.

Exit codes of ``jobs run``, ``adhoc`` and ``execution resume`` follow the execution's status: 0 succeeded, 1
failed (or another failure status), 2 timed out, 3 aborted, 130 interrupted (the execution stays stored; ``xlr execution
resume ID`` carries on from the step that was running).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time

import click

from xlr_runtime.cli.options import (
    ROW_ID,
    CliContext,
    echo_json,
    echo_left_out,
    json_option,
    page_options,
    page_size,
    runtime_options,
)
from xlr_runtime.cli.progress import ExecutionWatcher, Progress, progress_option, resolve_mode
from xlr_runtime.errors import NotFoundError
from xlr_runtime.rundeck.jobs.jobstore import JobStore
from xlr_runtime.rundeck.run.adhoc import adhoc_job
from xlr_runtime.rundeck.run.options import parse_arg_string
from xlr_runtime.rundeck.run.runner import ExecutionRunner
from xlr_runtime.runtime import Runtime, StopFlag
from xlr_runtime.store import Store
from xlr_runtime.store.executions import Execution, ExecutionStatus

#: Exit code per final status (anything else that is final: 1).
EXIT_CODES = {ExecutionStatus.SUCCEEDED: 0, ExecutionStatus.TIMEDOUT: 2, ExecutionStatus.ABORTED: 3}
INTERRUPTED = 130
FOLLOW_INTERVAL = 0.2
FOLLOW_HELP = "Print the log as it is written, and the progress (--progress)."


def exit_code(execution: Execution) -> int:
    """The exit code for an execution's status."""
    return EXIT_CODES.get(execution.status, 1)


def _when(epoch: float | None) -> str:
    return "-" if epoch is None else dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _runtime(ctx: CliContext) -> Runtime:
    return Runtime(ctx.home, plugin_paths=ctx.option_plugin_paths, settings=ctx.settings)


class _Follower:
    """Prints the new log lines of an execution (and of the retries that follow it)."""

    def __init__(self, store: Store, execution_id: int, *, timestamps: bool = False) -> None:
        self.watcher = ExecutionWatcher(store, execution_id)
        self.timestamps = timestamps

    def __call__(self) -> None:
        for event in self.watcher.poll():
            if event.kind == "log":
                click.echo(f"{_when(event.time)} {event.text}" if self.timestamps else event.text)
            elif event.kind == "retry":
                click.echo(f"Retry: {event.text}", err=True)


def _report(execution: Execution, as_json: bool) -> None:
    if as_json:
        echo_json(execution.to_json())
        return
    failure = f": {execution.failure}" if execution.failure and execution.status != ExecutionStatus.SUCCEEDED else ""
    click.echo(f"Execution {execution.id} {execution.shown_status}{failure}", err=True)


def _drive(runner: ExecutionRunner, execution_id: int, follow: bool, as_json: bool, progress: str) -> None:
    """Drive the execution here (or follow it while ``xlr serve`` does), showing its log and progress with
    ``follow`` (on stdout, or on stderr when stdout carries the JSON), report it and exit with its exit code."""
    stream = "stderr" if as_json else "stdout"
    view = Progress(ExecutionWatcher(runner.runtime.store, execution_id), resolve_mode(progress, stream), stream=stream)
    flag = StopFlag()
    restore = flag.install()
    try:
        with view if follow else contextlib.nullcontext():
            final = runner.drive(
                execution_id,
                on_tick=lambda: (follow and view.refresh(), flag.requested and runner.runtime.request_stop()),
            )
    finally:
        restore()
    if flag.requested and not final.status.is_final:
        click.echo(
            f"Interrupted: execution {final.id} stays {final.status}; 'xlr execution resume {final.id}'.", err=True
        )
        raise SystemExit(INTERRUPTED)
    _report(final, as_json)
    raise SystemExit(exit_code(final))


@click.command(name="run", context_settings={"ignore_unknown_options": True})
@click.option("-p", "--project", required=True, help="The project of the job.")
@click.option("-j", "--job", "job_name", help="The job as GROUP/NAME (or NAME without a group).")
@click.option("-i", "--id", "job_uuid", help="The job's uuid.")
@click.option("-f", "--follow", is_flag=True, help=FOLLOW_HELP)
@progress_option
@json_option
@click.argument("option_args", nargs=-1, type=click.UNPROCESSED)
@runtime_options
def jobs_run_command(
    ctx: CliContext,
    project: str,
    job_name: str | None,
    job_uuid: str | None,
    follow: bool,
    progress: str,
    as_json: bool,
    option_args: tuple[str, ...],
) -> None:
    """Run a stored job to its end here; option values go after --.

    Exit code 0 succeeded, 1 failed, 2 timed out, 3 aborted, 130 interrupted (resumable). With --follow the log
    is printed as it is written (on stderr with --json), and its progress: without a terminal (or with
    --progress plain) one timestamped line per step start and end on each node, per status change and per
    node's result; on a terminal a live status line.

    Example: xlr jobs run -p ops -j deploy/web --follow -- -env prod -version 1.2
    """
    if bool(job_name) == bool(job_uuid):
        raise click.UsageError("give the job with exactly one of -j GROUP/NAME and -i UUID")
    supplied = parse_arg_string(list(option_args))
    with _runtime(ctx) as runtime:
        jobs = JobStore(runtime.store)
        job = jobs.get(job_uuid) if job_uuid else jobs.find(project, str(job_name))
        if job.project != project:
            raise NotFoundError(f'no job with uuid {job_uuid} in project "{project}" (it is in "{job.project}")')
        runner = ExecutionRunner(runtime)
        execution = runner.start(project, job, supplied)
        click.echo(f"Execution {execution.id} of {execution.job_full_name} started", err=True)
        _drive(runner, execution.id, follow, as_json, progress)


@click.command(name="adhoc")
@click.option("-p", "--project", required=True, help="The project whose nodes run the command.")
@click.option("-F", "--filter", "node_filter", help="Node filter (as a job's); without one, the server node.")
@click.option("-C", "--threadcount", type=click.IntRange(min=1), default=1, show_default=True,
              help="Nodes run at the same time.")  # fmt: skip
@click.option("-K", "--keepgoing", is_flag=True, help="Go on with the other nodes after one fails.")
@click.option("-f", "--follow", is_flag=True, help=FOLLOW_HELP)
@progress_option
@json_option
@click.argument("command", nargs=-1, required=True)
@runtime_options
def adhoc_command(
    ctx: CliContext,
    project: str,
    node_filter: str | None,
    threadcount: int,
    keepgoing: bool,
    follow: bool,
    progress: str,
    as_json: bool,
    command: tuple[str, ...],
) -> None:
    """Run a command line on the nodes a filter selects, as rd adhoc; the command goes after --.

    It is stored as an execution (job "adhoc"), listed by xlr executions. Exit codes as xlr jobs run.

    Example: xlr adhoc -p ops -F 'tags: web' -C 3 --follow -- uptime
    """
    job = adhoc_job(" ".join(command), node_filter=node_filter, threadcount=threadcount, keepgoing=keepgoing)
    with _runtime(ctx) as runtime:
        runner = ExecutionRunner(runtime)
        execution = runner.start(project, job, {})
        click.echo(f"Execution {execution.id} (adhoc) started", err=True)
        _drive(runner, execution.id, follow, as_json, progress)


@click.command(name="executions")
@click.option("-p", "--project", default=None, help="Only executions of this project.")
@page_options("executions")
@json_option
@runtime_options(read_only=True)
def executions_command(ctx: CliContext, project: str | None, limit: int | None, show_all: bool, as_json: bool) -> None:
    """List executions, newest first, with job, status and times.

    Shows the newest 50 unless --limit or --all says otherwise, and ends with a line saying how many older
    executions are left out (on stderr with --json). Executions that a job reference step starts are not listed
    (their parent is).

    Example: xlr executions -p ops --json
    """
    shown = page_size(limit, show_all)
    with ctx.open_store() as store:
        executions = store.executions.summaries(project=project, limit=shown)
        full = shown is not None and len(executions) == shown
        left_out = store.executions.count(project=project) - len(executions) if full else 0
    if as_json:
        echo_json([e.to_json() for e in executions])
    elif not executions:
        click.echo("No executions.")
    else:
        click.echo(f"{'ID':>5}  {'STATUS':<17}  {'STARTED':<19}  {'ENDED':<19}  JOB")
        for e in executions:
            click.echo(
                f"{e.id:>5}  {e.shown_status:<17}  {_when(e.started_at):<19}  {_when(e.ended_at):<19}  "
                f"{e.job_full_name}"
            )
    echo_left_out(left_out, len(executions), "execution", err=as_json)


@click.group(name="execution")
def execution_group() -> None:
    """See, follow, abort or resume one execution.

    Example: xlr execution log 12 --follow
    """


@execution_group.command(name="show")
@click.argument("execution_id", type=ROW_ID)
@json_option
@runtime_options(read_only=True)
def show_command(ctx: CliContext, execution_id: int, as_json: bool) -> None:
    """Show an execution: job, status, options (secure ones masked), nodes, times.

    Example: xlr execution show 12
    """
    with ctx.open_store() as store:
        execution = store.executions.get(execution_id)
    data = execution.to_json()
    if as_json:
        echo_json(data)
        return
    for key in ("id", "project", "status", "argstring", "user", "retryAttempt", "failure"):
        click.echo(f"{key}: {data[key] if data[key] is not None else '-'}")
    click.echo(f"job: {execution.job_full_name} ({execution.job_id or '-'})")
    click.echo(f"started: {_when(execution.started_at)}  ended: {_when(execution.ended_at)}")
    click.echo(f"succeeded nodes: {', '.join(execution.succeeded_nodes) or '-'}")
    click.echo(f"failed nodes: {', '.join(execution.failed_nodes) or '-'}")


@execution_group.command(name="log")
@click.argument("execution_id", type=ROW_ID)
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines until the execution ends.")
@click.option("-t", "--timestamps", is_flag=True, help="Start each line with the time it was written (UTC).")
@runtime_options(read_only=True)
def log_command(ctx: CliContext, execution_id: int, follow: bool, timestamps: bool) -> None:
    """Print an execution's log (secure option values are masked).

    Example: xlr execution log 12 --follow --timestamps
    """
    with ctx.open_store() as store:
        follower = _Follower(store, execution_id, timestamps=timestamps)
        follower()
        while follow and not follower.watcher.ended:
            time.sleep(FOLLOW_INTERVAL)
            follower()


@execution_group.command(name="abort")
@click.argument("execution_id", type=ROW_ID)
@runtime_options
def abort_command(ctx: CliContext, execution_id: int) -> None:
    """Abort a queued or running execution (a running step is killed).

    Example: xlr execution abort 12
    """
    with ctx.open_store() as store:
        execution = store.executions.request_abort(execution_id, now=time.time())
    state = "aborted" if execution.status.is_final else "abort requested"
    click.echo(f"Execution {execution.id}: {state}")


@execution_group.command(name="resume")
@click.argument("execution_id", type=ROW_ID)
@click.option("-f", "--follow", is_flag=True, help=FOLLOW_HELP)
@progress_option
@json_option
@runtime_options
def resume_command(ctx: CliContext, execution_id: int, follow: bool, progress: str, as_json: bool) -> None:
    """Carry on with an execution left unfinished by a stopped or killed runtime, here, to its end.

    Example: xlr execution resume 12 --follow
    """
    with _runtime(ctx) as runtime:
        runtime.store.executions.get(execution_id)
        _drive(ExecutionRunner(runtime), execution_id, follow, as_json, progress)
