"""Operator commands: ``xlr config`` (the effective settings and where each came from), ``xlr prune`` (remove
ended history beyond a retention) and ``xlr backup`` (a consistent copy of the store while a server runs).

See ``docs/operations.md``.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import click

from xlr_runtime.cli.options import CliContext, echo_json, json_option, runtime_options
from xlr_runtime.effective_settings import GivenOptions, settings_rows
from xlr_runtime.errors import HomeError
from xlr_runtime.retention import Retention, parse_age, parse_retention
from xlr_runtime.store import Store
from xlr_runtime.store.history import PruneCounts
from xlr_runtime.store.opening import sqlite_path


@click.command(name="config")
@json_option
@runtime_options(read_only=True)
def config_command(ctx: CliContext, as_json: bool) -> None:
    """Print the effective settings of the home and where each came from.

    Each value's origin is one of: default, xlr.toml:LINE, conf/xl-release.conf:LINE, an environment variable or
    a command-line option. Secrets are never shown: a
    *_env setting shows the variable's name and whether it is set, a URL its user without the password.

    Invalid settings are reported on stderr and the defaults, which the read-only commands then use, are
    printed; the exit code is then 1, so 'xlr config' checks a home's configuration before a restart.

    Example: xlr config --home /srv/xlr --json
    """
    rows = settings_rows(ctx.home.root, ctx.settings, _given(ctx))
    if as_json:
        echo_json(rows)
    else:
        width = max(len(row["name"]) for row in rows)
        value_width = min(40, max(len(_text(row["value"])) for row in rows))
        click.echo(f"{'SETTING':<{width}}  {'VALUE':<{value_width}}  SOURCE")
        for row in rows:
            click.echo(f"{row['name']:<{width}}  {_text(row['value']):<{value_width}}  {row['source']}")
    if ctx.settings_error is not None:
        raise SystemExit(1)


def _given(ctx: CliContext) -> GivenOptions:
    """What ``--home``, ``--plugins`` (or their variables) and ``--store`` gave, and where each came from."""
    return GivenOptions(
        home_source=ctx.home_source,
        plugin_paths=ctx.option_plugin_paths,
        plugins_source=ctx.plugins_source,
        store_url=ctx.option_store_url,
    )


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(value) or "[]"
    return '""' if value == "" else str(value)


def _age(_ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_age(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from None


@click.command(name="prune")
@click.option("--dry-run", is_flag=True, help="Count what would be removed; remove nothing.")
@click.option(
    "--older-than", "older_than", metavar="AGE", callback=_age, help="Remove what ended before AGE (30d, 12h)."
)
@click.option(
    "--keep", type=click.IntRange(min=0), metavar="N", help="Keep only the N tasks and N executions that ended last."
)
@click.option("--vacuum", is_flag=True, help="Then VACUUM the database to give the freed space back to the disk.")
@json_option
@runtime_options
def prune_command(
    ctx: CliContext, dry_run: bool, older_than: float | None, keep: int | None, vacuum: bool, as_json: bool
) -> None:
    """Remove ended tasks and executions beyond a retention, never anything in flight.

    Ended tasks go with their script runs and logs, ended Rundeck executions with their output and
    notifications. The retention is --older-than and --keep, else the history.keep setting. Nothing planned,
    queued or running is ever removed. Batches are short transactions, so a running 'xlr serve' is not held up.

    The freed pages are reused by new rows; the file shrinks only with --vacuum (which needs as much free disk
    as the file, and holds the write lock while it runs).

    Example: xlr prune --older-than 30d --dry-run
    """
    ctx.require_home()
    retention = _retention(ctx, older_than, keep)
    with ctx.open_store() as store:
        name = store.path.name if store.dialect.name == "sqlite" else store.location
        before = store.space()
        started = time.monotonic()
        counts = store.history.prune(retention, time.time(), dry_run=dry_run)
        if vacuum and not dry_run:
            store.vacuum()
        after = store.space()
    seconds = time.monotonic() - started
    if as_json:
        echo_json(
            {
                "dry_run": dry_run,
                "retention": {"max_age": retention.max_age, "max_count": retention.max_count},
                "removed": counts.to_json(),
                "seconds": round(seconds, 3),
                "before": vars(before),
                "after": vars(after),
            }
        )
        return
    verb = "Would remove" if dry_run else "Removed"
    click.echo(f"{verb} {_summary(counts)}: {retention.describe()}.")
    click.echo(
        f"{name}: {_size(before.used_bytes)} in use of {_size(before.file_bytes)} before, "
        f"{_size(after.used_bytes)} in use of {_size(after.file_bytes)} after"
        + ("" if vacuum or dry_run else " (free pages are reused; --vacuum shrinks the file)")
    )


def _retention(ctx: CliContext, older_than: float | None, keep: int | None) -> Retention:
    if older_than is not None or keep is not None:
        return Retention(older_than, keep)
    retention = parse_retention(ctx.settings["history.keep"])
    if retention.keeps_everything:
        raise click.UsageError("nothing to prune by: give --older-than or --keep, or set history.keep in xlr.toml")
    return retention


def _summary(counts: PruneCounts) -> str:
    return (
        f"{counts.tasks} task(s) ({counts.script_runs} script runs, {counts.task_log} log lines) and "
        f"{counts.executions} execution(s) ({counts.execution_log} log lines, {counts.notification_events} "
        "notification events)"
    )


def _size(size: int) -> str:
    """``size`` bytes in bytes, KiB or MiB."""
    if size < 1024:
        return f"{size} bytes"
    return f"{size / 1024:.1f} KiB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MiB"


@click.command(name="backup")
@click.argument("destination", metavar="DEST", type=click.Path(path_type=Path))
@json_option
@runtime_options(read_only=True)
def backup_command(ctx: CliContext, destination: Path, as_json: bool) -> None:
    """Copy the home's store to DEST, consistently, while 'xlr serve' keeps running.

    The copy is taken with SQLite's online backup API: one snapshot. DEST is a new file, or a folder that gets
    xlr-YYYYmmddTHHMMSSZ.db. The copy is checked (PRAGMA integrity_check) and its tasks and executions counted.

    Restore by stopping the server and copying the file to xlr.db in the home (remove xlr.db-wal and
    xlr.db-shm first). xlr.toml, conf/ and the plugins are plain files: copy them as they are.

    Example: xlr backup /backups/xlr/
    """
    database = sqlite_path(ctx.home, ctx.settings.store_url)
    if not database.is_file():
        raise HomeError(database, "no store in this home (nothing ran here yet)")
    target = destination / _stamped_name() if destination.is_dir() else destination
    if target.exists():
        raise HomeError(target, "exists already", hint="Name a new file, or a folder for a time-stamped one.")
    if not target.parent.is_dir():
        raise HomeError(target.parent, "no such folder")
    with ctx.open_store() as store:
        store.backup(target)
    with Store.open(target) as copy:
        integrity, counts = copy.integrity_check(), copy.row_counts()
    size = target.stat().st_size
    if as_json:
        echo_json({"path": str(target), "bytes": size, "integrity": integrity, "rows": counts})
    else:
        click.echo(
            f"Backed up {database} to {target} ({_size(size)}; integrity {integrity}; "
            f"{counts.get('tasks', 0)} tasks, {counts.get('executions', 0)} executions)"
        )
    if integrity != "ok":
        raise SystemExit(1)


def _stamped_name() -> str:
    return f"xlr-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}.db"
