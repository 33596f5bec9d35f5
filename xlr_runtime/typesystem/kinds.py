"""Property kinds of synthetic.xml and the coercion of values to them.

Values come from three places: ``default`` attributes and CLI ``-i name=value`` (always text), ``xlr.toml``
(TOML scalars and lists), and script namespaces read back after a run (any Python value). :func:`coerce` turns
each into the one canonical, JSON-storable form of its kind, or raises :class:`ValueCoercionError`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from xlr_runtime.errors import ValueCoercionError


class PropertyKind(StrEnum):
    """The ``kind`` attribute of a ``<property>``; omitted means ``string``."""

    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATE = "date"
    ENUM = "enum"
    CI = "ci"
    LIST_OF_STRING = "list_of_string"
    SET_OF_STRING = "set_of_string"
    MAP_STRING_STRING = "map_string_string"
    LIST_OF_CI = "list_of_ci"
    SET_OF_CI = "set_of_ci"

    @property
    def is_collection(self) -> bool:
        """True for the list, set and map kinds."""
        return self in _COLLECTIONS

    @property
    def is_ci(self) -> bool:
        """True for kinds whose values name configuration items."""
        return self in (PropertyKind.CI, PropertyKind.LIST_OF_CI, PropertyKind.SET_OF_CI)


_COLLECTIONS = frozenset(
    {
        PropertyKind.LIST_OF_STRING,
        PropertyKind.SET_OF_STRING,
        PropertyKind.MAP_STRING_STRING,
        PropertyKind.LIST_OF_CI,
        PropertyKind.SET_OF_CI,
    }
)


def unset_value(kind: PropertyKind) -> Any:
    """The value XL Release gives a property of ``kind`` that has no value and no default (docs/types.md):
    ``False`` for a boolean (an unchecked box), an empty list or map for the collection kinds, ``None`` for
    every other kind. Collections are new objects on every call."""
    if kind is PropertyKind.BOOLEAN:
        return False
    if kind is PropertyKind.MAP_STRING_STRING:
        return {}
    if kind.is_collection:
        return []
    return None


#: An integer as text: what ``int()`` accepts beyond it (``" 7 "``, ``"1_000"``, a fullwidth five) is refused.
_DECIMAL = re.compile(r"[+-]?[0-9]+")
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0", ""})


def coerce(prop: str, kind: PropertyKind, value: Any, enum_values: Iterable[str] = ()) -> Any:
    """Return ``value`` in the canonical form of ``kind``; ``None`` stays ``None``.

    Canonical forms: ``str`` for string, enum, date (ISO 8601) and ci (the CI's name); ``int``; ``bool``;
    ``list[str]`` for the list and set kinds (sets keep first-seen order without duplicates); ``dict[str, str]``
    for maps. Text is accepted for every kind: integers in decimal, booleans as true/false (any case), lists and
    sets comma-separated, maps as ``k=v`` or ``k:v`` pairs separated by commas or new lines.
    """
    if value is None:
        return None
    try:
        return _COERCERS[kind](value, tuple(enum_values))
    except (TypeError, ValueError) as exc:
        raise ValueCoercionError(prop, kind.value, str(exc)) from None


def _string(value: Any, _: tuple[str, ...]) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, (Mapping, list, tuple, set, frozenset)):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value if isinstance(value, str) else str(value)


def _integer(value: Any, _: tuple[str, ...]) -> int:
    if isinstance(value, bool):
        raise TypeError("expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value)
    if not _DECIMAL.fullmatch(text):  # XL Release's Integer.parseInt: no spaces, no "_", no other scripts' digits
        raise ValueError(f"{text!r} is not an integer{_INTEGER_FORM if _python_int(text) else ''}")
    return int(text, 10)


_INTEGER_FORM = " (ASCII digits 0-9 with an optional sign, nothing around them)"


def _python_int(text: str) -> bool:
    """True for text ``int()`` reads although XL Release does not (the message then says what is accepted)."""
    try:
        int(text, 10)
    except ValueError:
        return False
    return True


def _boolean(value: Any, _: tuple[str, ...]) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not a boolean (use true or false)")


def _date(value: Any, _: tuple[str, ...]) -> str:
    if isinstance(value, dt.date):  # a datetime too
        return value.isoformat()
    text = str(value).strip()
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date") from None


def _enum(value: Any, allowed: tuple[str, ...]) -> str:
    text = _string(value, allowed)
    if allowed and text not in allowed:
        raise ValueError(f"{text!r} is not one of {', '.join(allowed)}")
    return text


def _items(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, Mapping):
        raise TypeError("expected a list, got a map")
    if isinstance(value, Iterable):
        return [_string(item, ()) for item in value]
    raise TypeError(f"expected a list, got {type(value).__name__}")


def _list(value: Any, _: tuple[str, ...]) -> list[str]:
    return _items(value)


def _set(value: Any, _: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys(_items(value)))


def _map(value: Any, _: tuple[str, ...]) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {_string(k, ()): _string(v, ()) for k, v in value.items()}
    if isinstance(value, str):
        pairs = [p for chunk in value.splitlines() for p in chunk.split(",") if p.strip()]
        result: dict[str, str] = {}
        for pair in pairs:
            key, val = _key_value(pair)
            result[key] = val
        return result
    raise TypeError(f"expected a map, got {type(value).__name__}")


def _key_value(pair: str) -> tuple[str, str]:
    """``k=v`` or ``k:v`` (public plugins write map defaults both ways): split at whichever separator comes
    first, so ``url:http://x`` and ``a=b:c`` keep the rest of the text as the value."""
    positions = [i for i in (pair.find("="), pair.find(":")) if i >= 0]
    if not positions:
        raise ValueError(f"{pair.strip()!r} is not a key=value or key:value pair")
    at = min(positions)
    return pair[:at].strip(), pair[at + 1 :].strip()


def _ci(value: Any, _: tuple[str, ...]) -> str:
    if isinstance(value, Mapping) and "name" in value:
        return _string(value["name"], ())
    name = getattr(value, "ci_name", None)
    return name if isinstance(name, str) else _string(value, ())


def _ci_list(value: Any, _: tuple[str, ...]) -> list[str]:
    if isinstance(value, str):
        return _items(value)
    if isinstance(value, Mapping):
        return [_ci(value, ())]
    if isinstance(value, Iterable):
        return [_ci(item, ()) for item in value]
    raise TypeError(f"expected a list of CIs, got {type(value).__name__}")


_COERCERS = {
    PropertyKind.STRING: _string,
    PropertyKind.INTEGER: _integer,
    PropertyKind.BOOLEAN: _boolean,
    PropertyKind.DATE: _date,
    PropertyKind.ENUM: _enum,
    PropertyKind.CI: _ci,
    PropertyKind.LIST_OF_STRING: _list,
    PropertyKind.SET_OF_STRING: _set,
    PropertyKind.MAP_STRING_STRING: _map,
    PropertyKind.LIST_OF_CI: _ci_list,
    PropertyKind.SET_OF_CI: lambda v, e: list(dict.fromkeys(_ci_list(v, e))),
}
