"""``xlr schedules``: the cron schedules of a project's jobs and their next fire times."""

from __future__ import annotations

import time

import click

from xlr_runtime.cli.jobs import project_option
from xlr_runtime.cli.options import CliContext, echo_json, json_option, runtime_options
from xlr_runtime.rundeck.schedules.quartz import local_time_text
from xlr_runtime.rundeck.schedules.schedules import fire_times, list_schedules, schedule_zone, server_zone


@click.command(name="schedules")
@project_option
@click.option("-n", "--count", default=1, show_default=True, type=click.IntRange(1, 100),
              help="How many next fire times to show per job.")  # fmt: skip
@json_option
@runtime_options(read_only=True)
def schedules_command(ctx: CliContext, project: str, count: int, as_json: bool) -> None:
    """List the scheduled jobs of a project with their next fire times.

    A job fires while `xlr serve` runs. A time in the past is a fire missed while no server ran: the next
    `xlr serve` fires it once at start-up. Disabled or invalid schedules say why they do not fire.

    Example: xlr schedules -p ops -n 3
    """
    with ctx.open_store() as store:
        entries = list_schedules(store, project, now=time.time(), default_zone=server_zone())
    if as_json:
        echo_json([{**entry.to_json(), "nextFireTimes": fire_times(entry, count)} for entry in entries])
        return
    if not entries:
        click.echo(f"No scheduled jobs in project {project}")
    for entry in entries:
        click.echo(f"{entry.job_uuid}  {entry.full_name}  {entry.crontab}  {entry.time_zone}")
        if entry.next_fire_at is None:
            click.echo(f"    does not fire: {entry.note}")
        for fire_at in fire_times(entry, count):
            click.echo(f"    next: {local_time_text(fire_at, schedule_zone(entry))}")
        if entry.last_error:
            click.echo(f"    last fire queued nothing: {entry.last_error}")
