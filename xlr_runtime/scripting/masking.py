"""Masking of secrets in everything a script run produces.

A :class:`Masker` is built once per script run from every ``password`` property value of the task and every
password field of the CIs it references. It replaces each secret, and the encoded forms a script or a library
is likely to print (URL-quoted, ``repr``/JSON-escaped, base64 and HTTP Basic ``user:password``), with
:data:`MASK` in log lines, failure messages, tracebacks, the status line and returned string properties.

Secrets that only exist while the script runs (an OAuth2 access token that ``HttpRequest`` fetched) join the
masker of the run in progress through :func:`xlr_runtime.mask.hide`; :func:`xlr_runtime.mask.masking` makes a
masker the one in progress. A worker listens to its run's masker (:meth:`Masker.listen`) and reports what it
learns to its pool before the script can print it, so text the pool builds itself (a dead worker's stderr) is
masked with it too. Each line of a multi-line
secret (a private key) is masked on its own, as logs are kept line by line.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from xlr_runtime.mask import MASK
from xlr_runtime.scripting.contract import CiValue, Failure, ScriptRunRequest

_USERNAME_FIELDS = ("username", "proxyUsername", "user", "login")


#: Secrets (and sets of them) whose masked forms a process keeps computed: a task's runs repeat the same ones.
_CACHED = 256

#: Shortest line of a multi-line secret masked on its own (shorter ones would mask ordinary words).
MIN_SECRET_LINE = 4

#: Called with the secrets and usernames a masker learns after it was built (see :meth:`Masker.listen`).
Listener = Callable[[list[str], list[str]], None]


class Masker:
    """Replaces known secrets (and their common encodings) by :data:`MASK`."""

    def __init__(self, secrets: Iterable[str], usernames: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._usernames: set[str] = set()
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._listener: Listener | None = None
        self._lock = threading.Lock()
        #: Length of the longest masked form: a text cut further than this from a secret cannot expose it.
        self.longest = 0
        self.add(secrets, usernames)

    def add(self, secrets: Iterable[str], usernames: Iterable[str] = ()) -> None:
        """Mask ``secrets`` too (and their encodings; with each username, the HTTP Basic form of
        ``username:secret``) in every text masked from now on. Nothing new costs nothing."""
        found_users = {u for u in usernames if isinstance(u, str) and u}
        found = {s for s in secrets if isinstance(s, str) and s}
        if found_users <= self._usernames and found <= self._secrets:
            return
        with self._lock:  # a script's threads may find secrets at the same time: no form may be lost
            new_users = list(found_users - self._usernames)
            new_secrets = list(found - self._secrets)
            if not new_users and not new_secrets:  # another thread added them meanwhile
                return
            self._usernames.update(new_users)
            self._secrets.update(new_secrets)
            for secret in new_secrets:
                self._forms.update(_encodings(secret))
            for user in self._usernames:  # each new pair: a new user with every secret, every user with a new one
                for secret in self._secrets if user in new_users else new_secrets:
                    self._forms.update(_basic(user, secret))
            self._forms.discard("")
            pattern, longest = _pattern(frozenset(self._forms))
            self.longest = longest  # first: a log cut may read it while this runs
            self._pattern = pattern
        if self._listener is not None:
            self._listener(new_secrets, new_users)

    def listen(self, listener: Listener) -> None:
        """Call ``listener(secrets, usernames)`` with what :meth:`add` learns from now on, after the masker
        masks it (a worker reports secrets found during a run to its pool this way)."""
        self._listener = listener

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
    return Masker(*secrets_of(request))


def secrets_of(request: ScriptRunRequest) -> tuple[list[str], list[str]]:
    """The secrets of one script run (the task's password properties and its CIs' password fields) and the
    usernames of the task and its CIs."""
    secrets: list[str] = [request.properties.get(name) for name in request.task_type.password_properties]
    usernames: list[str] = [v for k, v in request.properties.items() if k in _USERNAME_FIELDS]
    for ci in _all_cis(request.cis.values()):
        secrets.extend(ci.values.get(name) for name in ci.password_fields)
        usernames.extend(ci.values.get(name) for name in _USERNAME_FIELDS if ci.values.get(name))
    return [s for s in secrets if isinstance(s, str)], usernames


def _all_cis(values: Iterable[CiValue | list[CiValue]]) -> Iterable[CiValue]:
    for value in values:
        if isinstance(value, CiValue):
            yield value
        else:
            yield from value


@functools.lru_cache(maxsize=_CACHED)
def _pattern(forms: frozenset[str]) -> tuple[re.Pattern[str] | None, int]:
    """The regex of ``forms``, longest first, and the longest length (the same secrets come back every run)."""
    ordered = sorted(forms, key=len, reverse=True)
    if not ordered:
        return None, 0
    return re.compile("|".join(map(re.escape, ordered))), len(ordered[0])


@functools.lru_cache(maxsize=_CACHED)
def _encodings(secret: str) -> frozenset[str]:
    raw = secret.encode("utf-8")
    forms = {
        secret,
        quote(secret, safe=""),
        quote(secret),  # urllib's default, keeping "/"
        quote(secret, safe=":/?&=%"),  # what HttpRequest makes of a URL
        quote(secret, safe="!#$%&'()*+,/:;=?@[]~"),  # what requests makes of a URL (requote_uri)
        quote_plus(secret, safe=""),
        json.dumps(secret)[1:-1],
        repr(secret)[1:-1],
        base64.b64encode(raw).decode("ascii"),
    }
    if "\n" in secret or "\r" in secret:  # a multi-line secret (a private key) is logged line by line
        forms.update(line for line in map(str.strip, secret.splitlines()) if len(line) >= MIN_SECRET_LINE)
    return frozenset(forms)


@functools.lru_cache(maxsize=_CACHED)
def _basic(username: str, password: str) -> frozenset[str]:
    """The base64 of ``username:password`` in UTF-8 and in Latin-1 (what requests' HTTPBasicAuth sends)."""
    pair = f"{username}:{password}"
    utf8 = base64.b64encode(pair.encode()).decode("ascii")
    if pair.isascii():
        return frozenset((utf8,))
    try:
        return frozenset((utf8, base64.b64encode(pair.encode("latin-1")).decode("ascii")))
    except UnicodeEncodeError:
        return frozenset((utf8,))
