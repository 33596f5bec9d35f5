"""The secret a node authenticates with: a private key (and its passphrase) or a password.

As Rundeck: with ``ssh-authentication=privateKey`` the key comes from ``ssh-key-storage-path`` (key storage)
else the file ``ssh-keypath``; its passphrase from ``ssh-key-passphrase-storage-path`` else the secure option
``ssh-key-passphrase-option`` (``sshKeyPassphrase``). With ``password`` the password comes from
``ssh-password-storage-path`` else the secure option ``ssh-password-option`` (``sshPassword``).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from xlr_runtime.errors import KeyStoreError
from xlr_runtime.rundeck.keystore import KeyStore
from xlr_runtime.rundeck.nodes.ssh.target import PASSWORD, SshTarget

_KEY_CLASSES: tuple[type[paramiko.PKey], ...] = (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey)


@dataclass(frozen=True)
class Credentials:
    """What :mod:`.sessions` hands to the SSH client, and the secret texts to mask in logs."""

    password: str | None = None
    key: paramiko.PKey | None = None
    secrets: tuple[str, ...] = field(default=(), repr=False)


def load_credentials(target: SshTarget, *, keys: KeyStore, secure: Mapping[str, str]) -> Credentials:
    """The credentials of ``target``: ``keys`` is the home's key storage, ``secure`` the execution's secure
    option values by name. Raises :class:`NodeConnectionError` naming what is missing."""
    if target.authentication == PASSWORD:
        password = _secret(target, target.password_storage_path, target.password_option, keys, secure, "password")
        if password is None:
            raise target.fail(
                f"no password: set ssh-password-storage-path or give the secure option {target.password_option!r}",
                reason="AuthenticationFailure",
            )
        return Credentials(password=password, secrets=(password,))
    passphrase = _secret(target, target.passphrase_storage_path, target.passphrase_option, keys, secure, "passphrase")
    if target.key_storage_path:
        data, where = _stored(target, target.key_storage_path, keys), target.key_storage_path
    else:
        data, where = _key_file(target), target.key_path
    key = _private_key(target, data, passphrase, where)
    return Credentials(key=key, secrets=tuple(s for s in (passphrase,) if s))


def _secret(
    target: SshTarget,
    storage_path: str | None,
    option: str,
    keys: KeyStore,
    secure: Mapping[str, str],
    what: str,
) -> str | None:
    if storage_path:
        try:
            return _stored(target, storage_path, keys).decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise target.fail(f"the {what} at {storage_path!r} is not text", reason="AuthenticationFailure") from None
    return secure.get(option) or None


def _stored(target: SshTarget, path: str, keys: KeyStore) -> bytes:
    try:
        return keys.read(path)
    except KeyStoreError as exc:
        raise target.fail(str(exc), reason="AuthenticationFailure") from None


def _key_file(target: SshTarget) -> bytes:
    path = Path(target.key_path).expanduser()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise target.fail(
            f"cannot read ssh-keypath {target.key_path!r}: {exc.strerror}", reason="AuthenticationFailure"
        ) from None


def _private_key(target: SshTarget, data: bytes, passphrase: str | None, where: str) -> paramiko.PKey:
    """The key in ``data`` (OpenSSH or PEM; Ed25519, ECDSA or RSA)."""
    text = data.decode("utf-8", "replace")
    for key_class in _KEY_CLASSES:
        try:
            return key_class.from_private_key(io.StringIO(text), password=passphrase)
        except paramiko.PasswordRequiredException:
            raise target.fail(f"the private key {where!r} needs a passphrase", reason="AuthenticationFailure") from None
        except (paramiko.SSHException, ValueError):
            continue
    raise target.fail(
        f"{where!r} is not a private key this runtime reads (or its passphrase is wrong)",
        reason="AuthenticationFailure",
    )
