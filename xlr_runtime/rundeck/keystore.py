"""Rundeck key storage in the home: private keys, public keys and passwords by their ``keys/...`` path.

As in Rundeck, a path starts with ``keys/`` (``keys/project/ops/db.password``; a leading ``/`` and doubled or
trailing slashes are cleaned away), and each entry has one of three kinds, shown with Rundeck's content types:

=========  ==============================================  ======================================
kind       Rundeck content type                            content readable by ``xlr keys show``
=========  ==============================================  ======================================
private    ``application/octet-stream``                    never
public     ``application/pgp-keys``                        yes
password   ``application/x-rundeck-data-password``         never
=========  ==============================================  ======================================

Values are sealed with the home's key (:class:`~xlr_runtime.secrets.SecretBox`) before they reach the store;
listings and metadata (:class:`KeyInfo`) never hold a value, and errors name the path, never the value.
Node executors read private keys and passwords with :meth:`KeyStore.read`; a secure job option's
``storagePath`` default is read with :meth:`KeyStore.read_password`.
"""

from __future__ import annotations

import builtins
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from xlr_runtime.clock import Clock, SystemClock
from xlr_runtime.errors import KeyNotFoundError, KeyStoreError, StoreError
from xlr_runtime.secrets import SecretBox
from xlr_runtime.store import Store
from xlr_runtime.store.keys import KeyRow

#: The first segment of every key storage path.
ROOT = "keys"


class KeyKind(StrEnum):
    """The kind of a key storage entry (Rundeck's ``Rundeck-key-type``)."""

    PRIVATE = "private"
    PUBLIC = "public"
    PASSWORD = "password"

    @property
    def content_type(self) -> str:
        """Rundeck's ``Rundeck-content-type`` for this kind."""
        return _CONTENT_TYPES[self]

    @property
    def label(self) -> str:
        """How messages name this kind: ``private key``, ``public key``, ``password``."""
        return "password" if self is KeyKind.PASSWORD else f"{self.value} key"

    @classmethod
    def parse(cls, name: str, *, path: str) -> KeyKind:
        """The kind called ``name`` (``private``, ``public``, ``password``, or rd's ``privateKey`` /
        ``publicKey``, any case); :class:`KeyStoreError` naming ``path`` for another name."""
        kind = _KIND_NAMES.get(name.strip().lower())
        if kind is None:
            raise KeyStoreError(path, f"unknown key type {name!r}: use private, public or password")
        return kind


_CONTENT_TYPES = {
    KeyKind.PRIVATE: "application/octet-stream",
    KeyKind.PUBLIC: "application/pgp-keys",
    KeyKind.PASSWORD: "application/x-rundeck-data-password",
}
_KIND_NAMES = {kind.value: kind for kind in KeyKind} | {"privatekey": KeyKind.PRIVATE, "publickey": KeyKind.PUBLIC}


def key_path(path: str, *, folder: bool = False) -> str:
    """``path`` as key storage keeps it: ``keys/a/b`` (no leading, doubled or trailing ``/``).

    :class:`KeyStoreError` when it does not start with ``keys/``, names no entry below ``keys`` (unless
    ``folder``: then ``keys`` itself is allowed), or has a ``.``/``..`` segment or a control character."""
    segments = [segment for segment in path.split("/") if segment]
    shown = path or "''"
    if not segments or segments[0] != ROOT:
        raise KeyStoreError(shown, f"a key storage path starts with {ROOT}/", hint=f"Example: {ROOT}/project/ops/db")
    if len(segments) == 1 and not folder:
        raise KeyStoreError(shown, f"name a key below {ROOT}/", hint=f"Example: {ROOT}/project/ops/db")
    if any(segment in (".", "..") for segment in segments):
        raise KeyStoreError(shown, "'.' and '..' are not allowed in a key storage path")
    if any(not character.isprintable() for character in path):
        raise KeyStoreError(repr(path), "a key storage path cannot hold control characters")
    return "/".join(segments)


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown of a stored key: never its value."""

    path: str
    kind: KeyKind
    size: int
    created_at: float
    modified_at: float

    @property
    def name(self) -> str:
        """The last segment of the path."""
        return self.path.rsplit("/", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        """The metadata as ``xlr keys list --json`` prints it (Rundeck's resource metadata names)."""
        return {
            "path": self.path,
            "name": self.name,
            "type": self.kind.value,
            "contentType": self.kind.content_type,
            "size": self.size,
            "created": _iso(self.created_at),
            "modified": _iso(self.modified_at),
        }


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _info(row: KeyRow) -> KeyInfo:
    return KeyInfo(row.path, KeyKind(row.kind), row.size, row.created_at, row.modified_at)


class KeyStore:
    """The key storage of one store, its values sealed with the home's key (the folder of the database)."""

    def __init__(self, store: Store, *, secrets: SecretBox | None = None, clock: Clock | None = None) -> None:
        self.store = store
        self.secrets = secrets or SecretBox(store.home_dir)
        self.clock = clock or SystemClock()

    def put(self, path: str, value: bytes | str, kind: KeyKind | str, *, replace: bool = True) -> KeyInfo:
        """Store ``value`` (text is stored as UTF-8) at ``path`` as a ``kind`` entry, sealed.

        An existing entry is replaced (keeping its creation time) unless ``replace`` is false. Raises
        :class:`KeyStoreError` for a bad path or kind, an empty value, a password that is not UTF-8 text, or an
        existing entry when ``replace`` is false."""
        path = key_path(path)
        kind = kind if isinstance(kind, KeyKind) else KeyKind.parse(kind, path=path)
        data = value.encode() if isinstance(value, str) else bytes(value)
        self._check_value(path, data, kind)
        with self.store.atomic():
            if not replace and self.store.keys.get(path) is not None:
                raise KeyStoreError(path, "a key is already stored there", hint="Use --replace to overwrite it.")
            row = self.store.keys.put(
                path, kind=kind.value, size=len(data), sealed=self.secrets.seal_bytes(data), now=self.clock.now()
            )
        return _info(row)

    @staticmethod
    def _check_value(path: str, data: bytes, kind: KeyKind) -> None:
        if not data:
            raise KeyStoreError(path, f"the {kind.label} is empty")
        if kind is not KeyKind.PRIVATE:
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                raise KeyStoreError(path, f"a {kind.label} must be UTF-8 text") from None

    def info(self, path: str) -> KeyInfo:
        """The metadata of the entry at ``path``; :class:`KeyNotFoundError` when there is none."""
        return _info(self._row(key_path(path)))

    def read(self, path: str) -> bytes:
        """The clear value at ``path``, whatever its kind (for node executors; never print it).

        :class:`KeyNotFoundError` when nothing is stored there; :class:`KeyStoreError` for a bad path or a value
        that cannot be decrypted with the home's ``secret.key``."""
        row = self._row(key_path(path))
        try:
            return self.secrets.open_bytes(row.sealed, f"key {row.path}")
        except StoreError:
            raise KeyStoreError(
                row.path,
                f"the value cannot be decrypted with {self.secrets.path}",
                hint="The home's secret.key was replaced: store the key again with 'xlr keys add --replace'.",
            ) from None

    def read_password(self, path: str) -> str:
        """The password at ``path`` (as Rundeck's ``readPassword``); :class:`KeyStoreError` when the entry there
        is a private or public key, :class:`KeyNotFoundError` when there is none."""
        self.require_kind(path, KeyKind.PASSWORD)
        return self.read(path).decode("utf-8")

    def require_kind(self, path: str, kind: KeyKind) -> KeyInfo:
        """The metadata at ``path`` when its entry is a ``kind``; else :class:`KeyStoreError` saying what it is."""
        info = self.info(path)
        if info.kind is not kind:
            raise KeyStoreError(info.path, f"the entry is a {info.kind.label}, not a {kind.label}")
        return info

    def public_key(self, path: str) -> str:
        """The text of the public key at ``path`` (Rundeck lets anyone read public keys); :class:`KeyStoreError`
        for a private key or a password, whose content is never shown."""
        self.require_kind(path, KeyKind.PUBLIC)
        return self.read(path).decode("utf-8")

    def delete(self, path: str) -> KeyInfo:
        """Remove the entry at ``path`` and return what it was; :class:`KeyNotFoundError` when there is none."""
        path = key_path(path)
        with self.store.atomic():
            info = _info(self._row(path))
            self.store.keys.delete(path)
        return info

    def list(self, prefix: str = ROOT) -> builtins.list[KeyInfo]:
        """The entries at ``prefix`` and below it, by path (metadata only): ``keys`` lists them all."""
        return [_info(row) for row in self.store.keys.under(key_path(prefix, folder=True))]

    def _row(self, path: str) -> KeyRow:
        row = self.store.keys.get(path)
        if row is None:
            raise KeyNotFoundError(path)
        return row
