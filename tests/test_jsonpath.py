"""JsonPathResult: XL Release's JSONPath helper on jsonpath-ng."""

from __future__ import annotations

import importlib

import pytest

from xlr_runtime.compat import imports
from xlr_runtime.errors import ScriptError
from xlr_runtime.scripting.jsonpath import JsonPathResult

QUEUED = '{"executable": null, "why": "waiting", "task": {"name": "build"}}'
STARTED = '{"executable": {"number": 42, "url": "http://j/job/a/42/"}}'
BUILD = '{"result": "SUCCESS", "duration": 0, "actions": [{"p": 1}, {"p": 2}, {"x": 3}], "ok": false}'


@pytest.mark.parametrize(
    ("document", "path", "value"),
    [
        (STARTED, "executable.number", 42),
        (STARTED, "$.executable.url", "http://j/job/a/42/"),
        (QUEUED, "executable.number", None),  # Jenkins: no build number while the item is queued
        (QUEUED, "executable", None),
        (QUEUED, "nothing.here", None),
        (QUEUED, "task", {"name": "build"}),
        (BUILD, "duration", 0),
        (BUILD, "ok", False),
        (BUILD, "actions[1].p", 2),
        (BUILD, "$['result']", "SUCCESS"),
    ],
)
def test_definite_paths_give_the_value_or_none(document: str, path: str, value: object) -> None:
    assert JsonPathResult(document, path).get() == value


@pytest.mark.parametrize(
    ("path", "values"),
    [
        ("actions[*].p", [1, 2]),
        ("$..p", [1, 2]),
        ("actions[0:2].p", [1, 2]),
        ("actions[?(@.p > 1)].p", [2]),
        ("actions[*].missing", []),
    ],
)
def test_indefinite_paths_give_a_list(path: str, values: list[object]) -> None:
    assert JsonPathResult(BUILD, path).get() == values


def test_accepts_bytes_and_parsed_documents() -> None:
    assert JsonPathResult(STARTED.encode(), "executable.number").get() == 42
    assert JsonPathResult({"a": {"b": 1}}, "a.b").get() == 1


def test_text_that_is_not_json_is_a_clear_error() -> None:
    with pytest.raises(ScriptError) as caught:
        JsonPathResult("<html>502</html>", "a")
    assert str(caught.value) == (
        "JsonPathResult: the text is not JSON (Expecting value: line 1 column 1 (char 0)): '<html>502</html>'"
    )


def test_an_invalid_path_is_a_clear_error() -> None:
    with pytest.raises(ScriptError) as caught:
        JsonPathResult("{}", "a[[")
    assert str(caught.value) == "JsonPathResult: invalid path 'a[[': Parse error at 1:4 near token [ ([)"


def test_importable_from_the_xl_release_package() -> None:
    imports.install()
    module = importlib.import_module("com.xebialabs.xlrelease.plugin.webhook")

    assert module.JsonPathResult is JsonPathResult
