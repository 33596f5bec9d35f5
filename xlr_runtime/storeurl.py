"""Where the store lives: the ``store.url`` setting (``--store``, ``XLR_STORE``), parsed and shown safely.

``sqlite:///PATH`` is an SQLite file (a relative ``PATH`` is relative to the home, ``sqlite:////abs/path.db``
absolute, ``~`` expanded); empty, the default, is the home's ``xlr.db``. ``postgresql://USER[:PASSWORD]@HOST[:PORT]/
DATABASE[?PARAM=VALUE…]`` (or ``postgres://``) is a PostgreSQL database, as libpq reads such a URL. A URL is only
ever shown :attr:`~StoreURL.redacted`, its password (in the user part or a ``password`` parameter) replaced by
``***``; prefer ``PGPASSWORD`` or a ``~/.pgpass`` file, which libpq reads, to a password in the URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

SQLITE_PREFIX = "sqlite:///"
POSTGRESQL_SCHEMES = ("postgresql", "postgres")

_PASSWORD_PARAMETER = re.compile(r"(?i)(\bpassword=)[^&]*")


@dataclass(frozen=True)
class StoreURL:
    """A parsed store URL: ``backend`` is ``sqlite`` or ``postgresql``; ``path`` the SQLite file (``None``: the
    home's ``xlr.db``); ``text`` the URL as given (never shown: it may hold a password)."""

    backend: str
    text: str = field(repr=False)
    path: Path | None = None

    @property
    def redacted(self) -> str:
        """The URL for messages and logs, without its password."""
        return redact(self.text)

    @property
    def conninfo(self) -> str:
        """What libpq connects with (a ``postgres://`` URL is the same to it)."""
        return self.text

    @property
    def password(self) -> str | None:
        """The password the URL holds, if any (to keep it out of messages)."""
        parts = urlsplit(self.text)
        given = dict(parse_qsl(parts.query)).get("password")
        return parts.password or given or None


def redact(url: str) -> str:
    """``url`` with the password of its user part and of a ``password=`` parameter replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = rest.partition("/")
    user, at, host = authority.rpartition("@")
    if at and ":" in user:
        authority = f"{user.partition(':')[0]}:***@{host}"
    tail = _PASSWORD_PARAMETER.sub(r"\1***", tail)
    return f"{scheme}://{authority}{slash}{tail}"


def parse_store_url(text: str) -> StoreURL:
    """The :class:`StoreURL` of ``text``; :class:`ValueError` saying what is wrong (its message never holds the
    password)."""
    value = text.strip()
    if not value:
        return StoreURL("sqlite", "")
    if value.startswith(SQLITE_PREFIX):
        path = value[len(SQLITE_PREFIX) :]
        if not path:
            raise ValueError(f"{value!r} names no file (sqlite:///xlr.db, sqlite:////srv/xlr/xlr.db)")
        return StoreURL("sqlite", value, Path(path).expanduser())
    scheme = value.partition("://")[0].lower()
    if scheme in POSTGRESQL_SCHEMES and "://" in value:
        parts = urlsplit(value)
        try:
            parts.port  # noqa: B018  (a port that is not a number raises)
        except ValueError:
            raise ValueError(f"{redact(value)!r} has a port that is not a number") from None
        if not parts.path.strip("/"):
            raise ValueError(f"{redact(value)!r} names no database (postgresql://USER@HOST:PORT/DATABASE)")
        return StoreURL("postgresql", value)
    raise ValueError(
        f"{redact(value)!r} is not a store URL: sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE (or empty: "
        "the home's xlr.db)"
    )
