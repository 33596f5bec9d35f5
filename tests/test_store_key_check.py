"""The key check value: a store records a check value of its ``secret.key`` (never the key) at the first start
that has one, and refuses a start with another key or none, in one line naming the key file; a home that never
sealed anything opens as before. On both backends; a second home on one PostgreSQL database needs the first's key.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from tests.postgres_helpers import PostgresServer
from xlr_runtime.cli import main
from xlr_runtime.home import Home
from xlr_runtime.store.opening import connect_store
from xlr_runtime.storeurl import parse_store_url

HINT = (
    "Hint: Every home that opens this store needs the same secret.key: copy it (mode 0600) from the home of the "
    "first host that used the store.\n"
)
#: A Fernet key of another host.
OTHER_KEY = b"ZmFrZS1rZXktb2YtYW5vdGhlci1ob3N0LTMyYnl0ZXM=\n"


def xlr(home: Home, store: str, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env={"XLR_HOME": str(home.root), "XLR_STORE": store}, input=stdin)


def location(home: Home, url: str) -> str:
    with connect_store(home, parse_store_url(url)) as store:
        return store.location


def seal_a_password(home: Home, url: str) -> None:
    sealed = xlr(home, url, "keys", "add", "keys/db", "--type", "password", "--stdin", stdin="hunter2\n")
    assert sealed.exit_code == 0, sealed.output


def test_a_replaced_or_lost_key_is_refused_at_the_start(home: Home, store_url: str, tmp_path: Path) -> None:
    assert xlr(home, store_url, "tasks").exit_code == 0  # nothing sealed yet: no key, nothing recorded
    key = home.root / "secret.key"
    assert not key.exists()
    seal_a_password(home, store_url)
    assert xlr(home, store_url, "keys", "list").exit_code == 0  # the first start with the key records it
    with connect_store(home, parse_store_url(store_url)) as store:
        [row] = store.query("SELECT check_value FROM store_key_check")
    assert len(row["check_value"]) == 64 and key.read_text().strip() not in row["check_value"]

    shutil.copyfile(key, tmp_path / "kept.key")
    key.write_bytes(OTHER_KEY)
    replaced = xlr(home, store_url, "tasks")
    assert (replaced.exit_code, replaced.output) == (1, (
        f"Error: {key}: not the secret key the store {location(home, store_url)} seals its values with\n{HINT}"
    ))  # fmt: skip
    key.unlink()
    lost = xlr(home, store_url, "keys", "list")
    assert (lost.exit_code, lost.output) == (1, (
        f"Error: {key}: no secret key, but the store {location(home, store_url)} holds values sealed with one\n{HINT}"
    ))  # fmt: skip
    assert not key.exists()  # the refused start created no key of its own
    shutil.copyfile(tmp_path / "kept.key", key)
    assert xlr(home, store_url, "keys", "show", "keys/db").exit_code == 0


def test_a_second_home_on_one_database_needs_the_first_homes_key(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    url = postgres_server.new_store_url()
    first, second = Home(tmp_path / "first").ensure(), Home(tmp_path / "second").ensure()
    seal_a_password(first, url)
    assert xlr(first, url, "keys", "list").exit_code == 0
    refused = xlr(second, url, "keys", "list")
    assert refused.output.startswith(f"Error: {second.root / 'secret.key'}: no secret key, but the store ")
    shutil.copyfile(first.root / "secret.key", second.root / "secret.key")  # what the hint says
    shown = xlr(second, url, "keys", "show", "keys/db")
    assert shown.exit_code == 0, shown.output
