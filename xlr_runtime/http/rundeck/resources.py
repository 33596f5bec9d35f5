"""A project's nodes through Rundeck's API (``/project/{project}/resources`` and ``/resource/{name}``), in
Rundeck's resource model formats: JSON (the default), YAML or XML, by ``format`` or ``Accept``.

The nodes are those of ``xlr nodes``: the server node and the project's resource-model files
(:func:`~xlr_runtime.rundeck.nodes.resources.project_nodes`), narrowed by the node filter jobs use
(``filter=tags: web !name: web2``, or Rundeck's single-key parameters such as ``tags=web`` and ``exclude-name=web2``).
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from lxml import etree
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from xlr_runtime.errors import ApiRequestError, NodeFilterError, NotFoundError
from xlr_runtime.http.context import context_of
from xlr_runtime.http.params import choice_param
from xlr_runtime.http.rundeck.common import endpoint
from xlr_runtime.http.rundeck.system import find_project
from xlr_runtime.http.rundeck.xmlforms import element, xml_response
from xlr_runtime.rundeck.nodes.nodefilter import combine_filters, order_nodes, select_nodes
from xlr_runtime.rundeck.nodes.resources import Node, project_nodes

#: ``format`` values (Rundeck's own names too) and the form each stands for.
FORMATS = {"json": "json", "yaml": "yaml", "xml": "xml", "resourcejson": "json", "resourceyaml": "yaml",
           "resourcexml": "xml"}  # fmt: skip
_MEDIA = {"json": "application/json", "yaml": "application/yaml", "xml": "application/xml"}
#: Rundeck's single-key node filter parameters (each also as ``exclude-KEY``).
FILTER_KEYS = ("name", "hostname", "tags", "os-name", "os-family", "os-arch", "os-version")
_XML_NAME = re.compile(r"^[A-Za-z_][-A-Za-z0-9_.]*$")


def _form(request: Request) -> str:
    """The answer's form: ``format``, else the ``Accept`` header (JSON, YAML or XML), else JSON."""
    chosen = choice_param(request, "format", tuple(FORMATS))
    if chosen is not None:
        return FORMATS[chosen]
    accept = request.headers.get("accept", "").lower()
    for form, kinds in (("xml", ("xml",)), ("yaml", ("yaml",)), ("json", ("json",))):
        if any(kind in accept for kind in kinds):
            return form
    return "json"


def _filter_text(request: Request) -> str | None:
    """The node filter of the request: ``filter``, plus one clause per single-key parameter."""
    query = request.query_params
    clauses = [query["filter"]] if query.get("filter") else []
    for key in FILTER_KEYS:
        clauses += [f"{key}: {query[key]}"] if query.get(key) else []
        clauses += [f"!{key}: {query[f'exclude-{key}']}"] if query.get(f"exclude-{key}") else []
    return " ".join(clauses) or None


def _nodes(request: Request) -> list[Node]:
    """The project's nodes that the request's filter keeps, in dispatch order (by name)."""
    project = find_project(request, request.path_params["project"]).name
    nodes = list(project_nodes(context_of(request).home.root, project).values())
    text = _filter_text(request)
    if text is not None:
        try:
            nodes = select_nodes(nodes, combine_filters(text, None))
        except NodeFilterError as exc:
            raise ApiRequestError(400, f"filter: {exc.message}", field="filter") from None
    return order_nodes(nodes)


def node_map(node: Node) -> dict[str, str]:
    """A node as Rundeck's JSON and YAML resource formats write it: its attributes, ``nodename`` and ``tags``."""
    return {**node.attributes, "tags": ", ".join(node.tags)}


def _node_xml(node: Node) -> etree._Element:
    """A node as Rundeck's resource XML writes it: ``<node name="…" tags="…" …/>``, an attribute whose name is not an
    XML name as ``<attribute name="…" value="…"/>``."""
    attributes = {k: v for k, v in node.attributes.items() if k != "nodename"}
    plain = {k: v for k, v in attributes.items() if _XML_NAME.match(k)}
    others = [element("attribute", {"name": k, "value": v}) for k, v in attributes.items() if k not in plain]
    return element("node", {"name": node.name, "tags": ", ".join(node.tags), **plain}, *others)


def _answer(request: Request, nodes: list[Node]) -> Response:
    form = _form(request)
    if form == "xml":
        return xml_response(element("project", None, *map(_node_xml, nodes)))
    document: dict[str, Any] = {node.name: node_map(node) for node in nodes}
    if form == "yaml":
        return Response(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), media_type=_MEDIA["yaml"])
    return JSONResponse(document)


def list_resources(request: Request) -> Response:
    """The project's nodes that the filter keeps (all of them without one)."""
    return _answer(request, _nodes(request))


def show_resource(request: Request) -> Response:
    """One node of the project, by name."""
    name = request.path_params["name"]
    project = find_project(request, request.path_params["project"]).name
    node = project_nodes(context_of(request).home.root, project).get(name)
    if node is None:
        raise NotFoundError(f"Node does not exist: {name}")
    return _answer(request, [node])


ROUTES = [
    Route("/api/{version}/project/{project}/resources", endpoint(list_resources), methods=["GET"]),
    Route("/api/{version}/project/{project}/resource/{name}", endpoint(show_resource), methods=["GET"]),
]
