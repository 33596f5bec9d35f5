"""Key storage (:mod:`xlr_runtime.rundeck.keystore` over :mod:`xlr_runtime.store.keys`): Rundeck ``keys/...``
paths, the three kinds, sealed values, metadata without values, and errors that name the path only."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rundeck_helpers import stored_bytes
from xlr_runtime.clock import VirtualClock
from xlr_runtime.errors import KeyNotFoundError, KeyStoreError, NotFoundError, XlrError
from xlr_runtime.rundeck.keystore import KeyKind, KeyStore, key_path
from xlr_runtime.store import Store

CANARY = "canary-7f3e-password-value"
PRIVATE = b"-----BEGIN OPENSSH PRIVATE KEY-----\ncanary-private-body\x00\xff\n-----END OPENSSH PRIVATE KEY-----\n"
PUBLIC = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIcanary user@host\n"


@pytest.fixture
def keys(store: Store) -> KeyStore:
    return KeyStore(store, clock=VirtualClock(1_700_000_000.0))


def test_each_kind_reads_back_byte_for_byte(keys: KeyStore) -> None:
    keys.put("keys/project/ops/db", CANARY, "password")
    keys.put("keys/project/ops/id_rsa", PRIVATE, KeyKind.PRIVATE)
    keys.put("keys/project/ops/id_rsa.pub", PUBLIC, "public")

    assert keys.read("keys/project/ops/db") == CANARY.encode()
    assert keys.read_password("keys/project/ops/db") == CANARY
    assert keys.read("keys/project/ops/id_rsa") == PRIVATE
    assert keys.public_key("keys/project/ops/id_rsa.pub") == PUBLIC


def test_paths_are_cleaned_as_rundeck_cleans_them() -> None:
    assert key_path("/keys//project/ops/db/") == "keys/project/ops/db"
    assert key_path("keys", folder=True) == "keys"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("project/ops/db", "key storage project/ops/db: a key storage path starts with keys/"),
        ("", "key storage '': a key storage path starts with keys/"),
        ("keys", "key storage keys: name a key below keys/"),
        ("keys/a/../b", "key storage keys/a/../b: '.' and '..' are not allowed in a key storage path"),
        ("keys/a\nb", "key storage 'keys/a\\nb': a key storage path cannot hold control characters"),
    ],
)
def test_a_bad_path_is_refused_with_one_line(keys: KeyStore, path: str, message: str) -> None:
    with pytest.raises(KeyStoreError) as caught:
        keys.put(path, CANARY, "password")
    assert str(caught.value) == message
    assert keys.list() == []


def test_a_missing_key_names_its_path(keys: KeyStore) -> None:
    with pytest.raises(KeyNotFoundError) as caught:
        keys.read("keys/project/ops/nothing")
    assert str(caught.value) == "key storage keys/project/ops/nothing: no key is stored there"
    assert caught.value.path == "keys/project/ops/nothing"
    assert isinstance(caught.value, NotFoundError)


def test_listing_gives_metadata_below_a_prefix_and_never_a_value(keys: KeyStore) -> None:
    keys.put("keys/project/ops/db", CANARY, "password")
    keys.put("keys/project/ops/id_rsa", PRIVATE, "private")
    keys.put("keys/project/ops_other/db", CANARY, "password")
    keys.put("keys/project/o%s/db", CANARY, "password")

    listed = keys.list("keys/project/ops")

    assert [(i.path, i.kind, i.size) for i in listed] == [
        ("keys/project/ops/db", KeyKind.PASSWORD, len(CANARY)),
        ("keys/project/ops/id_rsa", KeyKind.PRIVATE, len(PRIVATE)),
    ]
    assert [i.path for i in keys.list("keys/project/ops/db")] == ["keys/project/ops/db"]
    assert len(keys.list()) == 4
    assert keys.list("keys/project/o_s") == []  # LIKE wildcards in a prefix are taken literally
    assert [i.path for i in keys.list("keys/project/o%s")] == ["keys/project/o%s/db"]
    assert CANARY not in repr(keys.list()) and "canary" not in str([i.to_dict() for i in keys.list()])


def test_replacing_keeps_the_creation_time_and_add_without_replace_refuses(store: Store) -> None:
    clock = VirtualClock(1_700_000_000.0)
    keys = KeyStore(store, clock=clock)
    first = keys.put("keys/a", "one", "password")
    clock.advance(60)
    second = keys.put("keys/a", PUBLIC, "public")

    assert (second.created_at, second.modified_at, second.kind) == (first.created_at, first.created_at + 60, "public")
    with pytest.raises(KeyStoreError) as caught:
        keys.put("keys/a", "two", "password", replace=False)
    assert str(caught.value) == "key storage keys/a: a key is already stored there"
    assert keys.public_key("keys/a") == PUBLIC


@pytest.mark.parametrize(
    ("value", "kind", "message"),
    [
        (b"", "password", "key storage keys/a: the password is empty"),
        (b"", "private", "key storage keys/a: the private key is empty"),
        (b"\xff\xfe", "password", "key storage keys/a: a password must be UTF-8 text"),
        (b"\xff\xfe", "public", "key storage keys/a: a public key must be UTF-8 text"),
        (b"x", "secret", "key storage keys/a: unknown key type 'secret': use private, public or password"),
    ],
)
def test_a_bad_value_or_kind_is_refused_and_nothing_is_stored(
    keys: KeyStore, value: bytes, kind: str, message: str
) -> None:
    with pytest.raises(KeyStoreError) as caught:
        keys.put("keys/a", value, kind)
    assert str(caught.value) == message
    assert keys.list() == []


def test_a_key_of_the_wrong_kind_is_refused_where_a_kind_is_needed(keys: KeyStore) -> None:
    keys.put("keys/id", PRIVATE, "private")
    keys.put("keys/db", CANARY, "password")

    with pytest.raises(KeyStoreError) as as_password:
        keys.read_password("keys/id")
    with pytest.raises(KeyStoreError) as as_public:
        keys.public_key("keys/db")
    assert str(as_password.value) == "key storage keys/id: the entry is a private key, not a password"
    assert str(as_public.value) == "key storage keys/db: the entry is a password, not a public key"


def test_delete_removes_one_entry_and_a_second_delete_is_not_found(keys: KeyStore) -> None:
    keys.put("keys/a/b", CANARY, "password")
    keys.put("keys/a/b/c", CANARY, "password")

    assert keys.delete("/keys/a/b/").path == "keys/a/b"
    assert [i.path for i in keys.list()] == ["keys/a/b/c"]
    with pytest.raises(KeyNotFoundError):
        keys.delete("keys/a/b")


def test_values_are_sealed_in_the_database_file(tmp_path: Path) -> None:
    database = tmp_path / "xlr.db"
    with Store.open(database) as store:
        keys = KeyStore(store)
        keys.put("keys/db", CANARY, "password")
        keys.put("keys/id", PRIVATE, "private")
        rows = store.query("SELECT sealed FROM keys")
    assert all(row["sealed"].startswith("xlr-sealed:") for row in rows)
    assert CANARY.encode() not in stored_bytes(tmp_path)
    assert b"canary-private-body" not in stored_bytes(tmp_path)


def test_a_value_sealed_with_a_lost_key_is_an_error_naming_the_path(tmp_path: Path) -> None:
    with Store.open(tmp_path / "xlr.db") as store:
        KeyStore(store).put("keys/db", CANARY, "password")
        (tmp_path / "secret.key").unlink()
        with pytest.raises(KeyStoreError) as caught:
            KeyStore(store).read("keys/db")
    assert str(caught.value) == f"key storage keys/db: the value cannot be decrypted with {tmp_path / 'secret.key'}"
    assert isinstance(caught.value, XlrError) and CANARY not in str(caught.value)
