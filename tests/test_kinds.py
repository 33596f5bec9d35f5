"""kinds.coerce: the canonical value of every property kind, and the exact message for each bad value."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from xlr_runtime.errors import ValueCoercionError
from xlr_runtime.typesystem.kinds import PropertyKind, coerce

K = PropertyKind
INTEGER_FORMS = (
    "property 'p' (integer): {} is not an integer (ASCII digits 0-9 with an optional sign, nothing around them)"
)


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        (K.STRING, "text", "text"),
        (K.STRING, 42, "42"),
        (K.STRING, b"bytes", "bytes"),
        (K.INTEGER, "42", 42),
        (K.INTEGER, "-7", -7),
        (K.INTEGER, "+7", 7),
        (K.INTEGER, 5, 5),
        (K.INTEGER, 3.0, 3),
        (K.BOOLEAN, "true", True),
        (K.BOOLEAN, "FALSE", False),
        (K.BOOLEAN, "", False),
        (K.BOOLEAN, 1, True),
        (K.BOOLEAN, False, False),
        (K.DATE, "2024-01-31", "2024-01-31T00:00:00"),
        (K.DATE, "2024-01-31T10:00:00Z", "2024-01-31T10:00:00+00:00"),
        (K.DATE, dt.date(2024, 1, 31), "2024-01-31"),
        (K.ENUM, "b", "b"),
        (K.CI, "my-server", "my-server"),
        (K.CI, {"name": "srv", "url": "http://x"}, "srv"),
        (K.LIST_OF_STRING, "a, b,,c", ["a", "b", "c"]),
        (K.LIST_OF_STRING, ("x", 1), ["x", "1"]),
        (K.SET_OF_STRING, "a,b,a", ["a", "b"]),
        (K.MAP_STRING_STRING, "k=v, x = y\nz=", {"k": "v", "x": "y", "z": ""}),
        (K.MAP_STRING_STRING, {"a": 1}, {"a": "1"}),
        (K.LIST_OF_CI, "s1,s2", ["s1", "s2"]),
        (K.LIST_OF_CI, [{"name": "s1"}, "s2"], ["s1", "s2"]),
        (K.SET_OF_CI, ["s1", "s1", "s2"], ["s1", "s2"]),
    ],
)
def test_coerce_accepts(kind: PropertyKind, value: Any, expected: Any) -> None:
    assert coerce("p", kind, value, ("a", "b")) == expected


@pytest.mark.parametrize("kind", list(PropertyKind))
def test_none_stays_none(kind: PropertyKind) -> None:
    assert coerce("p", kind, None) is None


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        (K.STRING, ["a"], "property 'p' (string): expected text, got list"),
        (K.INTEGER, "abc", "property 'p' (integer): 'abc' is not an integer"),
        (K.INTEGER, True, "property 'p' (integer): expected an integer, got a boolean"),
        (K.INTEGER, 1.5, "property 'p' (integer): '1.5' is not an integer"),
        (K.INTEGER, "", "property 'p' (integer): '' is not an integer"),
        (K.INTEGER, " 7 ", INTEGER_FORMS.format("' 7 '")),
        (K.INTEGER, "1_000", INTEGER_FORMS.format("'1_000'")),
        (K.INTEGER, "\uff15", INTEGER_FORMS.format("'\uff15'")),
        (K.INTEGER, "\u0663", INTEGER_FORMS.format("'\u0663'")),
        (K.BOOLEAN, "maybe", "property 'p' (boolean): 'maybe' is not a boolean (use true or false)"),
        (K.DATE, "yesterday", "property 'p' (date): 'yesterday' is not an ISO 8601 date"),
        (K.ENUM, "x", "property 'p' (enum): 'x' is not one of a, b"),
        (K.CI, ["x"], "property 'p' (ci): expected text, got list"),
        (K.LIST_OF_STRING, {"a": 1}, "property 'p' (list_of_string): expected a list, got a map"),
        (K.SET_OF_STRING, 5, "property 'p' (set_of_string): expected a list, got int"),
        (K.MAP_STRING_STRING, "a", "property 'p' (map_string_string): 'a' is not a key=value or key:value pair"),
        (K.MAP_STRING_STRING, 3, "property 'p' (map_string_string): expected a map, got int"),
        (K.LIST_OF_CI, 3, "property 'p' (list_of_ci): expected a list of CIs, got int"),
        (K.SET_OF_CI, 3, "property 'p' (set_of_ci): expected a list of CIs, got int"),
    ],
)
def test_coerce_rejects_with_exact_message(kind: PropertyKind, value: Any, message: str) -> None:
    with pytest.raises(ValueCoercionError) as info:
        coerce("p", kind, value, ("a", "b"))
    assert str(info.value) == message
    assert (info.value.prop, info.value.kind) == ("p", kind.value)


def test_enum_without_values_accepts_any_text() -> None:
    assert coerce("p", K.ENUM, "anything") == "anything"


def test_kind_groups() -> None:
    assert {k for k in PropertyKind if k.is_ci} == {K.CI, K.LIST_OF_CI, K.SET_OF_CI}
    assert {k for k in PropertyKind if k.is_collection} == {
        K.LIST_OF_STRING,
        K.SET_OF_STRING,
        K.MAP_STRING_STRING,
        K.LIST_OF_CI,
        K.SET_OF_CI,
    }
