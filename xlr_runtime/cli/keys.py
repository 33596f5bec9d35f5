"""``xlr keys``: Rundeck key storage in the home (as ``rd keys``): add, list, show and delete entries.

A value is read from a file, from standard input or from a hidden prompt, never from the command line (where
``ps`` would show it), and is never printed: only a public key's content may be shown, as in Rundeck.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from xlr_runtime.cli.options import CliContext, echo_json, json_option, runtime_options
from xlr_runtime.rundeck.keystore import ROOT, KeyInfo, KeyKind, KeyStore

_TYPES = click.Choice(["private", "public", "password", "privateKey", "publicKey"], case_sensitive=False)


@click.group(name="keys")
def keys_group() -> None:
    """Rundeck key storage: private keys, public keys and passwords at keys/... paths, stored sealed.

    Jobs read them through a secure option's storagePath and node attributes such as ssh-key-storage-path.

    Example: xlr keys add keys/project/ops/db --type password --prompt
    """


@keys_group.command(name="add")
@click.argument("path")
@click.option("--file", "file", type=click.Path(dir_okay=False, path_type=Path), help="Read the value from FILE.")
@click.option("--prompt", is_flag=True, help="Type the value at a hidden prompt, twice (passwords).")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the value from standard input.")
@click.option("--type", "kind", required=True, type=_TYPES, help="What the value is.")
@click.option("--replace", is_flag=True, help="Overwrite the entry already stored at PATH.")
@runtime_options
def add_command(
    ctx: CliContext, path: str, file: Path | None, prompt: bool, from_stdin: bool, kind: str, replace: bool
) -> None:
    """Store a private key, public key or password at PATH (keys/...), sealed with the home's key.

    The value comes from --file, --stdin or --prompt (never from the command line). A password read from a file
    or standard input loses one trailing newline; keys are stored byte for byte.

    Example: xlr keys add keys/project/ops/id_rsa --type private --file ~/.ssh/id_rsa
    """
    key_kind = KeyKind.parse(kind, path=path)
    value = _read_value(file, prompt, from_stdin, key_kind)
    with ctx.open_store() as store:
        info = KeyStore(store).put(path, value, key_kind, replace=replace)
    click.echo(f"Stored {info.path} ({info.kind.label}, {info.size} bytes)")


def _read_value(file: Path | None, prompt: bool, from_stdin: bool, kind: KeyKind) -> bytes:
    """The value from the one source given; a usage error for none, several, or a prompt for a key."""
    if sum((file is not None, prompt, from_stdin)) != 1:
        raise click.UsageError("give exactly one of --file, --stdin or --prompt")
    if prompt:
        if kind is not KeyKind.PASSWORD:
            hint = "--prompt reads passwords; give a key with --file or --stdin"
            raise click.BadParameter(hint, param_hint="--prompt")
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True)).encode()
    if file is not None:
        try:
            data = file.expanduser().read_bytes()
        except OSError as exc:
            raise click.BadParameter(f"{file}: {exc.strerror or exc}", param_hint="--file") from None
    else:
        data = sys.stdin.buffer.read()
    if kind is KeyKind.PASSWORD:
        data = data.removesuffix(b"\n").removesuffix(b"\r")
    return data


@keys_group.command(name="list")
@click.argument("prefix", default=ROOT)
@json_option
@runtime_options
def list_command(ctx: CliContext, prefix: str, as_json: bool) -> None:
    """List the entries at PREFIX and below it (default: all): path, type, size and time. Never values.

    Example: xlr keys list keys/project/ops --json
    """
    with ctx.open_store() as store:
        entries = KeyStore(store).list(prefix)
    if as_json:
        echo_json([info.to_dict() for info in entries])
        return
    for info in entries:
        click.echo(f"{info.path}  {info.kind.value}  {info.size} bytes  {info.to_dict()['modified']}")
    if not entries:
        click.echo(f"No keys under {prefix}", err=True)


@keys_group.command(name="show")
@click.argument("path")
@json_option
@runtime_options
def show_command(ctx: CliContext, path: str, as_json: bool) -> None:
    """Show an entry's metadata; a public key's content too (private keys and passwords are never shown).

    Example: xlr keys show keys/project/ops/id_rsa.pub
    """
    with ctx.open_store() as store:
        keys = KeyStore(store)
        info = keys.info(path)
        content = keys.public_key(path) if info.kind is KeyKind.PUBLIC else None
    if as_json:
        echo_json(info.to_dict() | ({"content": content} if content is not None else {}))
        return
    _echo_info(info)
    if content is not None:
        click.echo(content.rstrip("\n"))


def _echo_info(info: KeyInfo) -> None:
    for name, value in info.to_dict().items():
        click.echo(f"{name}: {value}")


@keys_group.command(name="delete")
@click.argument("path")
@runtime_options
def delete_command(ctx: CliContext, path: str) -> None:
    """Delete the entry at PATH.

    Example: xlr keys delete keys/project/ops/db
    """
    with ctx.open_store() as store:
        info = KeyStore(store).delete(path)
    click.echo(f"Deleted {info.path} ({info.kind.label})")
