"""``org.apache.commons.codec.binary.Base64``: the static methods scripts call, on bytes."""

from __future__ import annotations

import base64 as _base64
import binascii
from typing import Any


def _bytes(data: Any) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def encodeBase64(data: Any) -> bytes:
    """Base64 of ``data`` as bytes."""
    return _base64.b64encode(_bytes(data))


def encodeBase64String(data: Any) -> str:
    """Base64 of ``data`` as text."""
    return encodeBase64(data).decode("ascii")


def encodeBase64URLSafeString(data: Any) -> str:
    """URL-safe Base64 without padding, as text."""
    return _base64.urlsafe_b64encode(_bytes(data)).decode("ascii").rstrip("=")


def decodeBase64(data: Any) -> bytes:
    """The bytes encoded in ``data`` (text or bytes)."""
    return _base64.b64decode(_bytes(data))


def isBase64(data: Any) -> bool:
    """True when ``data`` is valid Base64."""
    try:
        _base64.b64decode(_bytes(data), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True
