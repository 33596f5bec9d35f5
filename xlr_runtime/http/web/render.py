"""Rendering the dashboard's pages: the Jinja2 templates (HTML autoescaped), their filters, and the HTML form of
an error for a page (the JSON API keeps its JSON errors)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from xlr_runtime.http.web.session import CSRF_FIELD, Session

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def when(epoch: float | None) -> str:
    """An epoch time as ``2026-12-03 09:12:44 UTC`` (empty for none)."""
    if epoch is None:
        return ""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def seconds(value: float | None) -> str:
    """A duration: ``0.4 s``, ``12 s``, ``3 min 5 s`` (empty for none)."""
    if value is None:
        return ""
    if value < 10:
        return f"{value:.1f} s"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


TEMPLATES.env.filters["when"] = when
TEMPLATES.env.filters["seconds"] = seconds


def page(request: Request, name: str, context: dict[str, Any], *, status: int = 200) -> Response:
    """The template ``name`` with ``context``, the request's session and its CSRF field."""
    session: Session | None = getattr(request.state, "session", None)
    shared = {"session": session, "csrf_field": CSRF_FIELD, "csrf": session.csrf if session else ""}
    return TEMPLATES.TemplateResponse(request, name, {**shared, **context}, status_code=status)


def error_page(request: Request, status: int, message: str, *, hint: str | None = None) -> Response:
    """An error as a page with its status (its message is written for users and never holds a secret)."""
    return page(request, "error.html", {"status": status, "message": message, "hint": hint}, status=status)
