"""``xlr keys add|list|show|delete``: values come from a file, stdin or a hidden prompt, never argv, and are never
printed (a public key's content excepted)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from xlr_runtime.cli import main
from xlr_runtime.home import Home
from xlr_runtime.rundeck.keystore import KeyStore
from xlr_runtime.store import Store

CANARY = "canary-41b9-password"
PRIVATE = "-----BEGIN OPENSSH PRIVATE KEY-----\ncanary-private-body\n-----END OPENSSH PRIVATE KEY-----\n"
PUBLIC = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIcanary user@host\n"


def xlr(home: Home, *args: str, stdin: str | bytes | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env={"XLR_HOME": str(home.root)}, input=stdin)


def stored(home: Home, path: str) -> bytes:
    with Store.open(home.database) as store:
        return KeyStore(store).read(path)


def add_three(home: Home, tmp_path: Path) -> None:
    (tmp_path / "id").write_text(PRIVATE)
    (tmp_path / "pass").write_text(CANARY + "\n")
    for args, stdin in (
        (("keys/project/ops/id", "--type", "private", "--file", str(tmp_path / "id")), None),
        (("keys/project/ops/db", "--type", "password", "--file", str(tmp_path / "pass")), None),
        (("keys/project/ops/id.pub", "--type", "publicKey", "--stdin"), PUBLIC),
    ):
        result = xlr(home, "keys", "add", *args, stdin=stdin)
        assert result.exit_code == 0, result.output


def test_add_from_a_file_stdin_or_prompt_stores_the_exact_value(home: Home, tmp_path: Path) -> None:
    add_three(home, tmp_path)
    prompted = xlr(home, "keys", "add", "keys/p", "--type", "password", "--prompt", stdin=f"{CANARY}\n{CANARY}\n")

    assert prompted.exit_code == 0, prompted.output
    assert prompted.output.endswith(f"Stored keys/p (password, {len(CANARY)} bytes)\n")
    assert stored(home, "keys/project/ops/id") == PRIVATE.encode()
    assert stored(home, "keys/project/ops/db") == CANARY.encode()  # the file's trailing newline is dropped
    assert stored(home, "keys/project/ops/id.pub") == PUBLIC.encode()
    assert stored(home, "keys/p") == CANARY.encode()


def test_list_and_show_give_metadata_but_never_a_secret(home: Home, tmp_path: Path) -> None:
    add_three(home, tmp_path)

    table = xlr(home, "keys", "list")
    as_json = xlr(home, "keys", "list", "keys/project/ops", "--json")
    shown = [xlr(home, "keys", "show", f"keys/project/ops/{name}") for name in ("id", "db", "id.pub")]

    outputs = [table.output, as_json.output] + [r.output for r in shown]
    assert all(r.exit_code == 0 for r in (table, as_json, *shown)), outputs
    assert [line.split("  ")[:3] for line in table.output.splitlines()] == [
        ["keys/project/ops/db", "password", f"{len(CANARY)} bytes"],
        ["keys/project/ops/id", "private", f"{len(PRIVATE)} bytes"],
        ["keys/project/ops/id.pub", "public", f"{len(PUBLIC)} bytes"],
    ]
    assert [(e["path"], e["type"], e["contentType"]) for e in json.loads(as_json.output)] == [
        ("keys/project/ops/db", "password", "application/x-rundeck-data-password"),
        ("keys/project/ops/id", "private", "application/octet-stream"),
        ("keys/project/ops/id.pub", "public", "application/pgp-keys"),
    ]
    assert all(CANARY not in out and "canary-private-body" not in out for out in outputs)
    assert PUBLIC.strip() in shown[2].output  # a public key may be read, as in Rundeck


def test_a_value_is_never_an_argument(home: Home) -> None:
    none = xlr(home, "keys", "add", "keys/a", "--type", "password")
    two = xlr(home, "keys", "add", "keys/a", "--type", "password", "--stdin", "--prompt")
    value = xlr(home, "keys", "add", "keys/a", CANARY, "--type", "password", "--stdin", stdin="x")

    assert none.exit_code == two.exit_code == value.exit_code == 2
    assert "Error: give exactly one of --file, --stdin or --prompt" in none.output
    assert "Error: give exactly one of --file, --stdin or --prompt" in two.output
    with Store.open(home.database) as store:
        assert KeyStore(store).list() == []


def test_a_key_cannot_be_typed_at_the_prompt(home: Home) -> None:
    result = xlr(home, "keys", "add", "keys/id", "--type", "private", "--prompt")
    assert result.exit_code == 2
    assert "--prompt reads passwords; give a key with --file or --stdin" in result.output


def test_errors_are_one_line_naming_the_path(home: Home, tmp_path: Path) -> None:
    add_three(home, tmp_path)

    again = xlr(home, "keys", "add", "keys/project/ops/db", "--type", "password", "--stdin", stdin=CANARY)
    missing = xlr(home, "keys", "show", "keys/project/ops/none")
    bad = xlr(home, "keys", "delete", "project/ops/db")
    no_file = xlr(home, "keys", "add", "keys/x", "--type", "private", "--file", str(tmp_path / "absent"))

    assert again.exit_code == missing.exit_code == bad.exit_code == 1
    assert again.output == (
        "Error: key storage keys/project/ops/db: a key is already stored there\nHint: Use --replace to overwrite it.\n"
    )
    assert missing.output.startswith("Error: key storage keys/project/ops/none: no key is stored there\n")
    assert bad.output.startswith("Error: key storage project/ops/db: a key storage path starts with keys/\n")
    assert no_file.exit_code == 2 and f"{tmp_path / 'absent'}: " in no_file.output


def test_replace_overwrites_and_delete_removes(home: Home, tmp_path: Path) -> None:
    add_three(home, tmp_path)

    replaced = xlr(home, "keys", "add", "keys/project/ops/db", "--type", "password", "--replace", "--stdin", stdin="n")
    deleted = xlr(home, "keys", "delete", "keys/project/ops/id")
    empty = xlr(home, "keys", "list", "keys/project/none")

    assert replaced.exit_code == deleted.exit_code == empty.exit_code == 0, replaced.output + deleted.output
    assert stored(home, "keys/project/ops/db") == b"n"
    assert deleted.output == "Deleted keys/project/ops/id (private key)\n"
    assert empty.output == "No keys under keys/project/none\n"
