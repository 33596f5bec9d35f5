"""API tokens: issued by ``xlr token create``, kept only as their SHA-256, checked in constant time.

A token is 32 random bytes (``secrets.token_urlsafe``) behind the prefix ``xlr_`` (so a leaked one is easy to
recognise in a log or a repository); it is printed once and never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from xlr_runtime.errors import ApiRequestError
from xlr_runtime.store import Store
from xlr_runtime.store.tokens import TokenRow

#: Random bytes in a token.
TOKEN_BYTES = 32
PREFIX = "xlr_"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def token_hash(token: str) -> str:
    """The SHA-256 (hex) of ``token``: what the store keeps."""
    return hashlib.sha256(token.encode("utf-8", errors="surrogateescape")).hexdigest()


def check_name(name: str) -> str:
    """``name`` when it is a valid token name (letters, digits, ``.``, ``_``, ``-``; at most 64), else a
    :class:`ApiRequestError` (400) naming the field ``name``."""
    if not _NAME.fullmatch(name):
        raise ApiRequestError(
            400,
            f"{name!r} is not a token name: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
            field="name",
        )
    return name


def issue(store: Store, name: str, *, now: float) -> tuple[str, TokenRow]:
    """Create a token named ``name``: return the token (shown once) and its stored row."""
    token = PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    row = store.tokens.add(check_name(name), token_hash(token), now=now)
    return token, row


def match(rows: list[TokenRow], presented: str) -> TokenRow | None:
    """The row whose hash is ``presented``'s, or ``None``. Every row is compared, each in constant time, so the
    time taken says nothing about which hash (or how much of it) matched."""
    wanted = token_hash(presented).encode()
    found = None
    for row in rows:
        if hmac.compare_digest(row.hash.encode(), wanted):
            found = row
    return found
