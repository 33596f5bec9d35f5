"""Property-based fuzzing of the whole HTTP API (ours under /api/v1 and Rundeck's under /api/{version}) with
schemathesis, from the OpenAPI document a real ``xlr serve`` serves: every operation of the document, with values
the document allows and values it does not, is answered below 500, in the status codes, content types and
response schemas the document declares.

Marked ``fuzz`` and deselected by default: schemathesis 4 needs newer pytest, hypothesis and rich than the lower
bounds the default suite runs at, so it is the ``fuzz`` extra (``pip install -e '.[test,fuzz]'``), which ``.ci/run``
installs for the newest-releases checkout and runs with ``python -m pytest -m fuzz``. Bounded by examples per
operation (about a minute in all); ``XLR_FUZZ_EXAMPLES=500`` searches harder."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.http_helpers import CANARIES, Api, served_api
from tests.rundeck_client import Rundeck
from xlr_runtime.http.openapi import DOCUMENT

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("XLR_FUZZ_EXAMPLES", "20"))
#: Every (path, method) of the document, known without schemathesis so that the tests are listed without it.
OPERATIONS = sorted((path, method.upper()) for path, item in DOCUMENT["paths"].items() for method in item)
JOBS = """\
- name: hello
  group: web/app
  description: Says hello
  uuid: 5b0c6e0a-0001-4000-8000-00000000f001
  options:
  - name: env
    values: [dev, prod]
  - name: password
    secure: true
    valueExposed: true
    value: {secret}
  sequence:
    commands:
    - exec: echo hello ${{option.env}}
- name: other
  description: ''
  uuid: 5b0c6e0a-0002-4000-8000-00000000f002
  sequence:
    commands:
    - exec: echo other
""".format(secret=CANARIES["input"])


def schemathesis_module() -> ModuleType:
    """schemathesis, or skip (fail under ``CI=true``) with one reason."""
    try:
        return importlib.import_module("schemathesis")
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("schemathesis is not installed; CI must run the API fuzzing (.ci/run installs the fuzz extra)")
        pytest.skip("schemathesis is not installed (pip install -e '.[test,fuzz]')")


def no_secret_in_the_answer(_ctx: Any, response: Any, _case: Any) -> None:
    """A schemathesis check: no canary secret (a CI's password, a secure option's default, a password input) is in
    the answer. The failure names which one, never its value."""
    leaked = [name for name, value in CANARIES.items() if value in response.text]
    assert not leaked, f"the answer holds the secret of {leaked}"


@dataclass
class Target:
    """The served API, its schema as schemathesis loaded it, schemathesis's generation modes and checks, and real
    values for path parameters."""

    api: Api
    schema: Any
    generation_modes: Any
    checks: list[Any]
    values: dict[str, list[str]]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    schemathesis = schemathesis_module()
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    for api in served_api(tmp_path_factory.mktemp("http-schemathesis")):
        rundeck = Rundeck(api.url.removesuffix("/api/v1"), api.token)
        imported = rundeck.import_jobs("web", JOBS)
        assert imported.status_code == 200, imported.text
        job = "5b0c6e0a-0001-4000-8000-00000000f001"
        execution = rundeck.run(job, options={"env": "dev"}).json()["id"]
        rundeck.wait_done(execution)
        task = api.create({"type": "demo.Counter", "inputs": {"polls": 0}, "title": "fuzzed"})["id"]
        node = rundeck.get("/system/info")["system"]["rundeck"]["node"]
        values = {
            "task_id": [str(task)],
            "id": [job, "5b0c6e0a-0002-4000-8000-00000000f002", str(execution)],
            "project": ["web", "*"],
            "node": [node],
            "name": [node],
            "stepctx": ["1"],
            "type_name": ["demo.Counter"],
            "version": ["47", "14"],
        }
        schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json", headers=api.auth())
        checks = [
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            no_secret_in_the_answer,
        ]
        yield Target(api, schema, schemathesis.GenerationMode, checks, values)
        log = api.serve.output()
        assert " ERROR " not in log and "Traceback" not in log, log[-4000:]
        assert not [name for name, value in CANARIES.items() if value in log], "a secret is in the server's log"


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_every_operation_answers_as_documented(target: Target, path: str, method: str) -> None:
    operation = target.schema[path][method]
    base_url = target.api.url.removesuffix("/api/v1")
    headers = {**target.api.auth(), "X-Rundeck-Auth-Token": target.api.token}
    modes = target.generation_modes
    cases = st.one_of(operation.as_strategy(modes.POSITIVE), operation.as_strategy(modes.NEGATIVE))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(case=cases, real=st.data())
    def fuzz(case: Any, real: st.DataObject) -> None:
        for name in case.path_parameters or {}:
            if name in target.values and real.draw(st.booleans()):
                case.path_parameters[name] = real.draw(st.sampled_from(target.values[name]))
        if case.query and "follow" in case.query:
            case.query.pop("follow")  # a followed log streams until the task ends
        case.call_and_validate(base_url=base_url, headers=headers, checks=target.checks, timeout=60)

    fuzz()
