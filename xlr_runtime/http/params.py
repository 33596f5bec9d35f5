"""Reading a request's query parameters and JSON body: bad input is an :class:`ApiRequestError` (400) naming
the parameter or field, never an exception the catch-all turns into a 500."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from xlr_runtime.errors import ApiRequestError


def int_param(request: Request, name: str, default: int, *, minimum: int, maximum: int) -> int:
    """The query parameter ``name`` as a whole number within ``minimum``..``maximum`` (``default`` when absent)."""
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiRequestError(400, f"{name} must be a whole number, got {text!r}", field=name) from None
    if not minimum <= value <= maximum:
        raise ApiRequestError(400, f"{name} must be between {minimum} and {maximum}, got {value}", field=name)
    return value


def whole_number(text: str) -> int | None:
    """``text`` as a whole number when it is only ASCII digits (an id or a version in a path), else ``None``:
    ``"²"`` passes ``str.isdigit`` yet ``int`` refuses it, as it refuses a number of thousands of digits."""
    if not (text.isascii() and text.isdigit()):
        return None
    try:
        return int(text)
    except ValueError:  # more digits than int() converts (sys.get_int_max_str_digits)
        return None


def bool_param(request: Request, name: str) -> bool:
    """The query parameter ``name`` as a flag: ``true``/``1``/``yes`` or ``false``/``0``/``no`` (absent: false)."""
    text = request.query_params.get(name, "false").lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no", ""):
        return False
    raise ApiRequestError(400, f"{name} must be true or false, got {text!r}", field=name)


def choice_param(request: Request, name: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
    """The query parameter ``name``, which must be one of ``choices`` (``default`` when absent)."""
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    if text not in choices:
        raise ApiRequestError(400, f"{name} must be one of {', '.join(choices)}, got {text!r}", field=name)
    return text


def choice_list_param(request: Request, name: str, choices: tuple[str, ...]) -> list[str]:
    """Every value of the repeatable query parameter ``name`` (``?status=a&status=b`` or ``?status=a,b``)."""
    values = [part for item in request.query_params.getlist(name) for part in item.split(",") if part]
    for value in values:
        if value not in choices:
            raise ApiRequestError(400, f"{name} must be one of {', '.join(choices)}, got {value!r}", field=name)
    return values


#: The largest request body read (a task's inputs are small; a larger body is refused, not buffered).
MAX_BODY_BYTES = 1024 * 1024


async def json_object(request: Request) -> dict[str, Any]:
    """The request's body as a JSON object."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiRequestError(413, f"the body is larger than {MAX_BODY_BYTES} bytes", field="body")
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiRequestError(400, f"the body is not JSON: {exc}", field="body") from None
    if not isinstance(data, dict):
        raise ApiRequestError(400, "the body must be a JSON object", field="body")
    return data


def string_field(data: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    """The body field ``name`` as a non-empty string (``None`` when absent and not ``required``)."""
    value = data.get(name)
    if value is None:
        if required:
            raise ApiRequestError(400, f"{name} is required", field=name)
        return None
    if not isinstance(value, str) or not value.strip():
        raise ApiRequestError(400, f"{name} must be a non-empty string", field=name)
    return value


def object_field(data: dict[str, Any], name: str) -> dict[str, Any]:
    """The body field ``name`` as a JSON object whose keys are names (``{}`` when absent)."""
    value = data.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ApiRequestError(400, f"{name} must be an object of property names to values", field=name)
    return value
