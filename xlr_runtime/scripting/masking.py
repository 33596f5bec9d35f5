"""Masking of secrets in everything a script run produces.

A :class:`Masker` is built once per script run from every ``password`` property value of the task and every
password field of the CIs it references. It replaces each secret, and the encoded forms a script or a library
is likely to print (URL-quoted, ``repr``/JSON-escaped, base64 and HTTP Basic ``user:password``), with
:data:`MASK` in log lines, failure messages, tracebacks, the status line and returned string properties.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from xlr_runtime.scripting.contract import CiValue, Failure, ScriptRunRequest

#: What a secret is replaced with.
MASK = "********"

_USERNAME_FIELDS = ("username", "proxyUsername", "user", "login")


class Masker:
    """Replaces known secrets (and their common encodings) by :data:`MASK`."""

    def __init__(self, secrets: Iterable[str], usernames: Iterable[str] = ()) -> None:
        plain = {s for s in secrets if isinstance(s, str) and s}
        names = {u for u in usernames if isinstance(u, str)}
        forms: set[str] = set()
        for secret in plain:
            forms.update(_encodings(secret))
            forms.update(_basic(user, secret) for user in names)
        ordered = sorted((f for f in forms if f), key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        #: Length of the longest masked form: a text cut further than this from a secret cannot expose it.
        self.longest = len(ordered[0]) if ordered else 0

    def __bool__(self) -> bool:
        return self._pattern is not None

    def mask(self, text: str) -> str:
        """``text`` with every secret form replaced by :data:`MASK`."""
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)

    def mask_value(self, value: Any) -> Any:
        """``value`` with every string inside it (lists, tuples, dicts, keys included) masked."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, list | tuple):
            return type(value)(self.mask_value(item) for item in value)
        if isinstance(value, Mapping):
            return {self.mask_value(k): self.mask_value(v) for k, v in value.items()}
        return value

    def mask_failure(self, failure: Failure) -> Failure:
        """``failure`` with its message and traceback masked."""
        if self._pattern is None:
            return failure
        return Failure(failure.kind, self.mask(failure.message), self.mask(failure.traceback))


def masker_for(request: ScriptRunRequest) -> Masker:
    """The masker of one script run: the task's password properties and its CIs' password fields."""
    secrets: list[str] = [request.properties.get(name) for name in request.task_type.password_properties]
    usernames: list[str] = [v for k, v in request.properties.items() if k in _USERNAME_FIELDS]
    for ci in _all_cis(request.cis.values()):
        secrets.extend(ci.values.get(name) for name in ci.password_fields)
        usernames.extend(ci.values.get(name) for name in _USERNAME_FIELDS if ci.values.get(name))
    return Masker([s for s in secrets if isinstance(s, str)], usernames)


def _all_cis(values: Iterable[CiValue | list[CiValue]]) -> Iterable[CiValue]:
    for value in values:
        if isinstance(value, CiValue):
            yield value
        else:
            yield from value


def _encodings(secret: str) -> set[str]:
    raw = secret.encode("utf-8")
    return {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        json.dumps(secret)[1:-1],
        repr(secret)[1:-1],
        base64.b64encode(raw).decode("ascii"),
    }


def _basic(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
