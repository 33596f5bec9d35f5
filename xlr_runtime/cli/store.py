"""``xlr store``: move a home's store to another backend (``copy``) and apply schema migrations (``migrate``).

See ``docs/cluster.md`` (moving a home to PostgreSQL) and ``docs/operations.md`` (upgrades).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from xlr_runtime.cli.options import CliContext, echo_json, json_option, runtime_options
from xlr_runtime.errors import HomeLockedError, StoreError
from xlr_runtime.storeurl import StoreURL, parse_store_url

if TYPE_CHECKING:
    from xlr_runtime.store import Store
    from xlr_runtime.store.copying import TableCopy


@click.group(name="store")
def store_group() -> None:
    """Copy the store to another backend, or apply its schema migrations."""


def _target_url(_ctx: click.Context, _param: click.Parameter, value: str) -> StoreURL:
    try:
        return parse_store_url(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@store_group.command(name="copy")
@click.option(
    "--to",
    "target_url",
    required=True,
    metavar="URL",
    callback=_target_url,
    help="The empty store to copy into: postgresql://USER@HOST:PORT/DATABASE or sqlite:///PATH.",
)
@json_option
@runtime_options
def copy_command(ctx: CliContext, target_url: StoreURL, as_json: bool) -> None:
    """Copy every row of the home's store (or --store) into another, empty store, and verify it.

    The target is created or migrated to this version's schema first and must hold no rows. Tasks, runs, logs,
    jobs, executions, schedules, keys and tokens are copied with their ids in one transaction: a copy that fails
    (or whose row counts and SHA-256 checksums differ from the source's) leaves nothing in the target. Sealed
    values are copied sealed: the target needs the same secret.key. Stop 'xlr serve' of the home first (the
    copy holds the home lock); then point store.url at the target.

    Example: xlr store copy --to postgresql://xlr@db.example:5432/xlr
    """
    from xlr_runtime.runtime import HomeLock
    from xlr_runtime.store.copying import CopyMismatchError, copy_store
    from xlr_runtime.store.opening import open_store_url

    home = ctx.require_home()
    lock = HomeLock(home)
    if not lock.try_acquire("xlr store copy"):
        raise HomeLockedError(
            f"home {home.root} is in use by {lock.holder() or 'another process'}: its store cannot be copied while "
            "it is written",
            hint="Stop 'xlr serve' of the home first (writes after the copy would not be in the target).",
        )
    try:
        with ctx.open_store() as source:
            if _same_place(ctx, source, target_url):
                raise StoreError(f"{target_url.redacted}: the target is the store being copied")
            with open_store_url(home, target_url, synchronous=ctx.settings["store.synchronous"]) as target:
                try:
                    copies = copy_store(source, target)
                except CopyMismatchError as mismatch:
                    _echo_copies(mismatch.copies, as_json)
                    raise
                _echo_copies(copies, as_json)
                if not as_json:
                    rows = sum(copy.target_rows for copy in copies)
                    click.echo(
                        f"Copied {rows:,} rows of {len(copies)} tables from {source.location} to {target.location}; "
                        "row counts and checksums match."
                    )
    finally:
        lock.release()


def _same_place(ctx: CliContext, source: Store, target_url: StoreURL) -> bool:
    """Whether ``target_url`` names the store ``source`` is (compared as shown, passwords left out)."""
    if source.dialect.name != target_url.backend:
        return False
    if target_url.backend == "postgresql":
        return target_url.redacted == source.location
    from xlr_runtime.store.opening import sqlite_path

    return sqlite_path(ctx.home, target_url).resolve() == source.path.resolve()


def _echo_copies(copies: list[TableCopy], as_json: bool) -> None:
    """The table of row counts and checksums (``--json``: both checksums in full)."""
    if as_json:
        echo_json([
            {"table": c.name, "source_rows": c.source_rows, "target_rows": c.target_rows,
             "source_sha256": c.source_digest, "target_sha256": c.target_digest, "matches": c.matches}
            for c in copies
        ])  # fmt: skip
        return
    width = max([len("TABLE"), *(len(copy.name) for copy in copies)])
    click.echo(f"{'TABLE':<{width}}  {'SOURCE':>9}  {'TARGET':>9}  SHA-256       CHECK")
    for copy in copies:
        check = "ok" if copy.matches else "MISMATCH"
        click.echo(
            f"{copy.name:<{width}}  {copy.source_rows:>9,}  {copy.target_rows:>9,}  {copy.target_digest[:12]}  {check}"
        )


@store_group.command(name="migrate")
@click.option("--check", is_flag=True, help="Apply nothing: list the pending steps and exit 1 if there are any.")
@runtime_options
def migrate_command(ctx: CliContext, check: bool) -> None:
    """Apply the store's pending schema migration steps (after an upgrade), printing each.

    Every command also migrates the store it opens; this makes it a step of its own (before starting the new
    version's servers). A store migrated by a newer xlr-runtime is refused, naming the steps this version does
    not know.

    Example: xlr store migrate --check
    """
    from xlr_runtime.store.migrations import pending_migrations
    from xlr_runtime.store.opening import connect_store

    home = ctx.require_home()
    with connect_store(home, ctx.settings.store_url, synchronous=ctx.settings["store.synchronous"]) as store:
        pending = [f"{group.name}/{step.name}" for group, step in pending_migrations(store, store.migration_sets())]
        if not pending:
            click.echo(f"{store.location}: the schema is up to date.")
            return
        if check:
            click.echo(f"{store.location}: {len(pending)} pending migration step(s):")
            for name in pending:
                click.echo(f"  {name}")
            raise SystemExit(1)
        for name in store.migrate():
            click.echo(f"applied {name}")
        click.echo(f"{store.location}: the schema is up to date.")
