"""``xlr schedules``: the cron schedules of a project's jobs and their next fire times."""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

import click

from xlr_runtime.cli.jobs import project_option
from xlr_runtime.cli.options import CliContext, echo_json, json_option, runtime_options
from xlr_runtime.rundeck.schedules.quartz import local_time_text, parse
from xlr_runtime.rundeck.schedules.schedules import ScheduleEntry, list_schedules, server_zone


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


def schedule_zone(entry: ScheduleEntry) -> ZoneInfo:
    """The entry's zone (a fire time exists, so a named zone is valid); the server's for ``localtime``."""
    return ZoneInfo(str(entry.time_zone)) if entry.time_zone not in (None, "localtime") else server_zone()


def fire_times(entry: ScheduleEntry, count: int) -> list[float]:
    """The next ``count`` fire times of a schedule (none for one that does not fire); the dashboard shows them
    too."""
    if entry.next_fire_at is None or entry.crontab is None:
        return []
    later = parse(entry.crontab).fire_times(max(entry.next_fire_at, time.time()), schedule_zone(entry), count - 1)
    return [entry.next_fire_at, *later]
