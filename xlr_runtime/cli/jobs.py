"""``xlr jobs load|list|delete`` and ``xlr projects``: Rundeck job definitions per project, as ``rd`` has them.

``xlr jobs run`` lives in :mod:`xlr_runtime.cli.executions`; the group imports it when it runs (``lazy_commands``).
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from xlr_runtime.cli.lazy import LazyCommand, LazyGroup
from xlr_runtime.cli.options import CliContext, echo_json, json_option, runtime_options
from xlr_runtime.errors import NotFoundError
from xlr_runtime.rundeck.jobs.jobstore import DupeOption, ImportAction, JobStore, UuidOption
from xlr_runtime.rundeck.jobs.model import Job
from xlr_runtime.rundeck.jobs.xml_codec import dump_jobs_xml, load_jobs_xml
from xlr_runtime.rundeck.jobs.yaml_codec import dump_jobs_yaml, load_jobs_yaml

FORMATS = ("xml", "yaml")
project_option = click.option(
    "-p", "--project", required=True, envvar="XLR_PROJECT", help="Project name [env XLR_PROJECT]."
)
format_option = click.option(
    "-F",
    "--format",
    "file_format",
    type=click.Choice(FORMATS),
    help="File format [default: from the file extension, else xml].",
)


def _format_of(path: Path | None, file_format: str | None) -> str:
    if file_format:
        return file_format
    return "yaml" if path is not None and path.suffix.lower() in (".yaml", ".yml") else "xml"


def _summary(job: Job) -> dict[str, str | None]:
    return {
        "uuid": job.uuid,
        "group": job.group,
        "name": job.name,
        "project": job.project,
        "description": job.description.splitlines()[0] if job.description else "",
    }


@click.group(
    name="jobs",
    cls=LazyGroup,
    lazy_commands={
        "run": LazyCommand(
            "xlr_runtime.cli.executions:jobs_run_command",
            "Run a stored job to its end here; option values go after --.",
        )
    },
)
def jobs_group() -> None:
    """Rundeck job definitions, stored per project (as ``rd jobs``).

    Example: xlr jobs load -p ops --file jobs.xml
    """


@jobs_group.command(name="load")
@project_option
@click.option(
    "-f",
    "--file",
    "file_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Job definitions file (Rundeck job XML or YAML).",
)
@format_option
@click.option(
    "-d",
    "--duplicate",
    "dupe_option",
    type=click.Choice([o.value for o in DupeOption]),
    default=DupeOption.UPDATE.value,
    show_default=True,
    help="What to do with a job that already exists (same uuid, else same group and name).",
)
@click.option(
    "-r",
    "--remove-uuids",
    "uuid_option",
    type=click.Choice([o.value for o in UuidOption]),
    default=UuidOption.PRESERVE.value,
    show_default=True,
    help="Keep the file's job uuids, or give the jobs new ones.",
)
@json_option
@runtime_options
def load_command(
    ctx: CliContext,
    project: str,
    file_path: Path,
    file_format: str | None,
    dupe_option: str,
    uuid_option: str,
    as_json: bool,
) -> None:
    """Load job definitions from a file into a project; a file with one bad job loads nothing.

    Example: xlr jobs load -p ops --file jobs.yaml -d skip -r remove
    """
    data = file_path.read_bytes()
    if _format_of(file_path, file_format) == "yaml":
        jobs = load_jobs_yaml(data, path=file_path)
    else:
        jobs = load_jobs_xml(data, path=file_path)
    with ctx.open_store() as store:
        results = JobStore(store).load(project, jobs, now=time.time(), dupe_option=dupe_option, uuid_option=uuid_option)
    if as_json:
        echo_json([{"action": r.action.value, **_summary(r.job)} for r in results])
        return
    counts = {action: sum(r.action is action for r in results) for action in ImportAction}
    click.echo(", ".join(f"{count} {action.value}" for action, count in counts.items()) + f" in project {project}")
    for result in results:
        click.echo(f"{result.action.value:<8} {result.job.uuid}  {result.job.full_name}")


@jobs_group.command(name="list")
@project_option
@click.option(
    "-f",
    "--file",
    "file_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the jobs to this file (canonical export) instead of listing them.",
)
@format_option
@click.option("-g", "--group", help="Only jobs of this group (and its subgroups).")
@click.option("-j", "--job", "name", help="Only jobs with this exact name.")
@json_option
@runtime_options(read_only=True)
def list_command(
    ctx: CliContext,
    project: str,
    file_path: Path | None,
    file_format: str | None,
    group: str | None,
    name: str | None,
    as_json: bool,
) -> None:
    """List a project's jobs, or export them (to --file, or to stdout with --format) in Rundeck's canonical form.

    Example: xlr jobs list -p ops --file jobs.xml -g deploy
    """
    with ctx.open_store() as store:
        if project not in {p.name for p in store.jobs.projects()}:
            raise NotFoundError(f'no project "{project}"', hint="Load jobs into it first: xlr jobs load -p …")
        jobs = JobStore(store).list(project, group=group, name=name)
    if file_path is not None or file_format is not None:
        fmt = _format_of(file_path, file_format)
        text = dump_jobs_yaml(jobs) if fmt == "yaml" else dump_jobs_xml(jobs)
        if file_path is None:
            click.echo(text)
            return
        file_path.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {len(jobs)} job{'s' if len(jobs) != 1 else ''} to {file_path} ({fmt})")
        return
    if as_json:
        echo_json([_summary(job) for job in jobs])
        return
    for job in jobs:
        click.echo(f"{job.uuid}  {job.full_name}" + (f"  - {_summary(job)['description']}" if job.description else ""))


@jobs_group.command(name="delete")
@project_option
@click.option("-i", "--id", "job_id", help="The job's uuid.")
@click.option("-j", "--job", "full_name", help="The job as GROUP/NAME (or NAME without a group).")
@runtime_options
def delete_command(ctx: CliContext, project: str, job_id: str | None, full_name: str | None) -> None:
    """Delete one job of a project, by uuid or by group and name.

    Example: xlr jobs delete -p ops -j deploy/web
    """
    if (job_id is None) == (full_name is None):
        raise click.UsageError("give exactly one of -i UUID or -j GROUP/NAME")
    with ctx.open_store() as store:
        uuid = job_id if job_id is not None else store.jobs.find(project, str(full_name)).uuid
        deleted = JobStore(store).delete(project, str(uuid))
    click.echo(f"Deleted {deleted.uuid}  {deleted.full_name}")


@click.command(name="projects")
@json_option
@runtime_options(read_only=True)
def projects_command(ctx: CliContext, as_json: bool) -> None:
    """List projects and how many jobs each holds.

    Example: xlr projects --json
    """
    with ctx.open_store() as store:
        projects = store.jobs.projects()
    if as_json:
        echo_json([{"name": p.name, "jobs": p.job_count} for p in projects])
        return
    for project in projects:
        click.echo(f"{project.name}  {project.job_count} job{'s' if project.job_count != 1 else ''}")
