"""``xlr token create|list|revoke``: the API tokens of ``xlr serve``'s HTTP API (``docs/http.md``).

A token is printed once, when it is created, and kept only as its SHA-256: a lost token cannot be shown again,
only revoked and replaced.
"""

from __future__ import annotations

import datetime as dt

import click

from xlr_runtime.cli.options import CliContext, echo_json, json_option, runtime_options
from xlr_runtime.clock import SystemClock
from xlr_runtime.errors import ApiRequestError, NotFoundError


def _when(epoch: float | None) -> str:
    return "-" if epoch is None else dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


@click.group(name="token")
def token_group() -> None:
    """Create, list or revoke the API tokens of the HTTP API of 'xlr serve'.

    Example: xlr token create ci-bot
    """


@token_group.command(name="create")
@click.argument("name")
@runtime_options
def create_command(ctx: CliContext, name: str) -> None:
    """Create an API token named NAME and print it, once: it is stored only as its SHA-256.

    Send it as 'Authorization: Bearer TOKEN' (or Rundeck's 'X-Rundeck-Auth-Token: TOKEN'). NAME is 1 to 64
    letters, digits, '.', '_' or '-', unique among the tokens not revoked.

    Example: xlr token create ci-bot
    """
    from xlr_runtime.http.tokens import issue

    try:
        with ctx.open_store() as store:
            token, _row = issue(store, name, now=SystemClock().now())
    except ApiRequestError as error:
        raise click.BadParameter(error.message, param_hint="NAME") from None
    click.echo(token)
    click.echo(f"Token {name!r} created; it is not shown again.", err=True)


@token_group.command(name="list")
@click.option("--all", "show_all", is_flag=True, help="Also the revoked tokens.")
@json_option
@runtime_options(read_only=True)
def list_command(ctx: CliContext, show_all: bool, as_json: bool) -> None:
    """List the API tokens by name, with when each was created and last used (never the token).

    Example: xlr token list --json
    """
    with ctx.open_store() as store:
        rows = store.tokens.listed(include_revoked=show_all)
    if as_json:
        echo_json([row.to_json() for row in rows])
        return
    if not rows:
        click.echo("No tokens.")
        return
    width = max(4, *(len(row.name) for row in rows))
    click.echo(f"{'NAME':<{width}}  CREATED              LAST USED            REVOKED")
    for row in rows:
        click.echo(
            f"{row.name:<{width}}  {_when(row.created_at):<19}  {_when(row.last_used_at):<19}  {_when(row.revoked_at)}"
        )


@token_group.command(name="revoke")
@click.argument("name")
@runtime_options
def revoke_command(ctx: CliContext, name: str) -> None:
    """Revoke the API token named NAME: requests with it are refused (403) from now on.

    Example: xlr token revoke ci-bot
    """
    with ctx.open_store() as store:
        if not store.tokens.revoke(name, now=SystemClock().now()):
            raise NotFoundError(f"no token named {name!r}", hint="Run 'xlr token list' to list the tokens.")
    click.echo(f"Token {name!r} revoked.")
