"""The OpenAPI document of the HTTP API is valid OpenAPI 3 and describes exactly the routes the application has."""

from __future__ import annotations

import re
from pathlib import Path

from openapi_spec_validator import validate

from xlr_runtime.http import config, openapi, tasks, types
from xlr_runtime.http.openapi import DOCUMENT
from xlr_runtime.http.rundeck.routes import ROUTES as RUNDECK_ROUTES


def test_the_document_is_valid_openapi_3() -> None:
    validate(DOCUMENT)  # raises with the first problem


def test_every_route_is_documented_and_every_documented_path_is_a_route() -> None:
    routes = {
        (re.sub(r":\w+}", "}", route.path), method.lower())  # {stepctx:path} is the path parameter {stepctx}
        for route in [*tasks.ROUTES, *types.ROUTES, *config.ROUTES, *openapi.ROUTES, *RUNDECK_ROUTES]
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {(path, method) for path, item in DOCUMENT["paths"].items() for method in item}
    assert routes == documented


def test_path_parameters_are_declared_where_they_are_used() -> None:
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            used = {part[1:-1] for part in path.split("/") if part.startswith("{")}
            assert declared == used, (path, method)


def test_docs_http_md_lists_every_endpoint() -> None:
    docs = (Path(__file__).resolve().parents[1] / "docs" / "http.md").read_text(encoding="utf-8")
    for path, item in DOCUMENT["paths"].items():
        for method in item:
            assert f"`{method.upper()} {path.removeprefix('/api/v1')}" in docs, (method, path)
