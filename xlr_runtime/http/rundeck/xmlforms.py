"""Rundeck's XML answers: which form a request wants, and the small builder every route's XML form uses.

Rundeck answers JSON by default (API 14 and later) and XML when the request asks for it: an ``Accept`` header
naming an XML type before any JSON one, or ``format=xml`` on the endpoints whose ``format`` parameter picks the
answer's form. Since API 11 an XML answer holds only the endpoint's own element (no ``<result>`` wrapper); errors
are ``<result error="true" apiversion="N"><error code="..."><message>...</message></error></result>``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from lxml import etree
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from xlr_runtime.errors import ApiRequestError
from xlr_runtime.rundeck.jobs.xml_export import escape_not_xml

XML_MEDIA = "application/xml"
_XML_TYPES = ("application/xml", "text/xml", "*/xml")
_JSON_TYPES = ("application/json", "text/json", "*/json")


def wants_xml(request: Request, *, by_format: bool = True) -> bool:
    """True when ``request`` asks for XML: ``format=xml`` (when ``by_format``; ``json`` asks for JSON; another
    value is a 400 naming ``format``), else an ``Accept`` header that names an XML type before any JSON type."""
    fmt = request.query_params.get("format") if by_format else None
    if fmt:
        if fmt not in ("xml", "json"):
            raise ApiRequestError(400, f"format must be one of json, xml, got {fmt!r}", field="format")
        return fmt == "xml"
    accept = request.headers.get("accept", "").lower()
    positions = [accept.find(kind) for kind in _XML_TYPES if kind in accept]
    if not positions:
        return False
    first_json = min((accept.find(kind) for kind in _JSON_TYPES if kind in accept), default=len(accept) + 1)
    return min(positions) < first_json


def element(tag: str, attributes: Mapping[str, Any] | None = None, *children: etree._Element | None,
            text: Any = None) -> etree._Element:  # fmt: skip
    """``<tag a="…">text or children</tag>``; attributes whose value is ``None`` are left out, booleans are
    ``true``/``false``, children that are ``None`` are skipped."""
    node = etree.Element(tag)
    for name, value in (attributes or {}).items():
        if value is not None:
            node.set(name, _text(value))
    if text is not None:
        node.text = _text(text)
    node.extend(child for child in children if child is not None)
    return node


def leaves(parent: etree._Element, values: Mapping[str, Any]) -> etree._Element:
    """Add one ``<name>value</name>`` child per entry of ``values`` whose value is not ``None``; return ``parent``."""
    parent.extend(element(name, text=value) for name, value in values.items() if value is not None)
    return parent


def node_names(tag: str, names: Iterable[str]) -> etree._Element:
    """Rundeck's node name list: ``<tag><nodes><node name="…"/>…</nodes></tag>``."""
    return element(tag, None, element("nodes", None, *(element("node", {"name": name}) for name in names)))


def _text(value: Any) -> str:
    """``value`` as XML text: booleans as ``true``/``false``; a character XML cannot carry (a control character
    in a log line or in a path parameter echoed by an error) as ``\\xNN``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape_not_xml(str(value))


def xml_response(root: etree._Element, status_code: int = 200) -> Response:
    """``root`` as an XML document."""
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return Response(body, status_code=status_code, media_type=XML_MEDIA)


def answer(request: Request, data: Any, to_xml: Callable[[], etree._Element], *, by_format: bool = True,
           status_code: int = 200) -> Response:  # fmt: skip
    """``data`` as JSON, or ``to_xml()`` when the request asks for XML (:func:`wants_xml`)."""
    if wants_xml(request, by_format=by_format):
        return xml_response(to_xml(), status_code)
    return JSONResponse(data, status_code=status_code)


def error_xml(code: str, message: str, version: int) -> etree._Element:
    """Rundeck's XML error form."""
    error = element("error", {"code": code}, element("message", text=message))
    return element("result", {"error": True, "apiversion": version}, error)
