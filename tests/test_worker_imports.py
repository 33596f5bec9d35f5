"""A worker imports the heavy parts of the script API only when a script needs them: fissix for a script that
needs translating, requests for an ``HttpRequest``, jsonpath-ng for a ``JsonPathResult``, the Apache HttpClient
shim for an ``org.apache.http`` import (``sys.modules`` read in the worker by its own scripts)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from xlr_runtime.scripting.build import prop, script_request
from xlr_runtime.scripting.contract import RunOutcome
from xlr_runtime.scripting.pool import WorkerPool

#: Modules a fresh worker must not have imported, by what makes a script import them.
LAZY = {
    "translation": "fissix",
    "HttpRequest": "requests",
    "JsonPathResult": "jsonpath_ng",
    "Apache HttpClient shim": "xlr_runtime.compat.shims.apache_http",
}
READ_LOADED = "loaded = ','.join(sorted(name for name in {names!r} if name in sys.modules))\n"


@pytest.fixture
def worker() -> Iterator[WorkerPool]:
    with WorkerPool(1) as pool:
        yield pool


def loaded_after(pool: WorkerPool, source: str) -> set[str]:
    """Run ``source`` then read which of :data:`LAZY`'s modules the worker has imported."""
    request = script_request(
        source + READ_LOADED.format(names=sorted(LAZY.values())), properties=[prop("loaded", "string", "output")]
    )
    result = pool.run_sync(request)
    assert result.outcome is RunOutcome.SUCCEEDED, result.failure
    return set(filter(None, result.properties["loaded"].split(",")))


def test_a_python3_script_in_a_fresh_worker_imports_none_of_them(worker: WorkerPool) -> None:
    assert loaded_after(worker, "x = 1\n") == set()


def test_each_is_imported_by_the_first_script_that_needs_it(worker: WorkerPool) -> None:
    assert loaded_after(worker, 'print "python 2"\n') == {"fissix"}
    assert loaded_after(worker, "HttpRequest({'url': 'http://127.0.0.1:9'})\n") == {"fissix", "requests"}
    assert loaded_after(worker, "JsonPathResult('{\"a\": 1}', 'a').get()\n") == {"fissix", "requests", "jsonpath_ng"}
    assert loaded_after(worker, "from org.apache.http.client.methods import HttpGet\n") == set(LAZY.values())


def test_a_python3_script_using_python2_names_of_its_own_is_not_translated(worker: WorkerPool) -> None:
    """Telling Python 2 from 3 uses fissix's module tables without importing fissix."""
    assert loaded_after(worker, "import json\nlong = 3\nvalue = long + 1\n") == set()
