"""Property-based fuzzing of the HTTP API from its OpenAPI document, against a real ``xlr serve``: any request the
document describes, with any path, query and body values, is answered below 500, and every error is the API's
JSON error. Bounded by the number of examples (a few seconds), with hypothesis, which the suite already uses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.http_helpers import TIMEOUT, Api, served_api
from xlr_runtime.http.openapi import DOCUMENT

OPERATIONS = sorted((path, method) for path, item in DOCUMENT["paths"].items() for method in item)
#: Values that mean something to some parameter, mixed with arbitrary ones.
WORDS = ["true", "false", "0", "1", "-1", "json", "text", "planned", "completed", "demo.Counter", "jenkins.Build"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
texts = st.one_of(st.sampled_from(WORDS), st.text(max_size=30), st.integers(-(10**20), 10**20).map(str))
bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"type": st.one_of(st.sampled_from(["demo.Counter", "demo.Call", "demo.Abstract", "jenkins.Build"]), texts)},
        optional={
            "title": json_values,
            "inputs": st.dictionaries(st.sampled_from(["polls", "interval", "name", "token", "nope"]), json_values),
            "cis": st.dictionaries(st.sampled_from(["server", "jenkinsServer"]), json_values),
        },
    ),
)


@st.composite
def requests_of_the_document(draw: st.DrawFn) -> tuple[str, str, dict[str, str], Any]:
    path, method = draw(st.sampled_from(OPERATIONS))
    operation = DOCUMENT["paths"][path][method]
    query: dict[str, str] = {}
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", draw(texts).replace("/", "%2F") or "x")
        elif parameter["name"] != "follow" and draw(st.booleans()):  # a followed log streams until the task ends
            query[parameter["name"]] = draw(texts)
    body = draw(bodies) if "requestBody" in operation else None
    return method.upper(), path, query, body


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from served_api(tmp_path_factory.mktemp("http-fuzz"))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=requests_of_the_document())
def test_no_request_of_the_document_gets_a_server_error(
    api: Api, request: tuple[str, str, dict[str, str], Any]
) -> None:
    method, path, query, body = request
    data = None if body is None else json.dumps(body)
    with requests.request(
        method,
        api.url.removesuffix("/api/v1") + path,
        params=query,
        data=data,
        headers=api.auth(),
        stream=True,
        timeout=TIMEOUT,
    ) as response:
        assert response.status_code < 500, (request, response.text)
        if response.status_code >= 400 and path.startswith("/api/v1/"):
            error = response.json()
            assert isinstance(error["error"], str) and error["error"], error
        elif response.status_code >= 400:  # Rundeck's API answers Rundeck's error form
            error = response.json()
            assert error["error"] is True and isinstance(error["message"], str) and error["message"], error
            assert "Traceback" not in response.text
    assert " ERROR " not in api.serve.output() and "Traceback" not in api.serve.output()
