"""Python 2 numbers and sorting in translated scripts: ``/`` floors on integers, ``round`` rounds halves away from
zero and returns a float, ``sorted``/``sort`` take ``cmp``. The shims, the fixers, line numbers, the translation
cache, and real Python 2 scripts through the worker pool."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from xlr_runtime.compat import imports
from xlr_runtime.compat import translate as translate_module
from xlr_runtime.compat.script_globals import script_globals
from xlr_runtime.compat.shims.java_util import Collections
from xlr_runtime.compat.shims.py2_semantics import div, round_half_away, sort_cmp, sorted_cmp
from xlr_runtime.compat.translate import cache_dir, cache_key, clear_memory_cache, to_python3
from xlr_runtime.scripting.build import script_request
from xlr_runtime.scripting.contract import RunOutcome, ScriptRunResult
from xlr_runtime.scripting.pool import WorkerPool

PY2 = Path(__file__).parent / "data" / "py2"


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    clear_memory_cache()


def run_translated(source: str, path: str = "/plugins/p/script.py") -> dict[str, Any]:
    """Translate (auto mode) and run ``source`` with the script globals, as a worker does; return its namespace."""
    imports.install()
    namespace: dict[str, Any] = {**script_globals(), "__name__": "__builtin__"}
    exec(compile(to_python3(source, path), path, "exec", dont_inherit=True), namespace)
    return namespace


# --- the shims ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        (7, 2, 3),
        (-7, 2, -4),
        (7, -2, -4),
        (6, 3, 2),
        (True, 2, 0),
        (7, True, 7),
        (10**20 + 1, 10, 10**19),
        (7, 2.0, 3.5),
        (7.0, 2, 3.5),
        (-7.0, 2, -3.5),
        (Decimal(7), 2, Decimal("3.5")),
    ],
)
def test_div_floors_two_integers_and_divides_truly_otherwise(left: Any, right: Any, expected: Any) -> None:
    result = div(left, right)
    assert (result, type(result)) == (expected, type(expected))


def test_integer_division_by_zero_has_jythons_message() -> None:
    with pytest.raises(ZeroDivisionError, match=r"^integer division or modulo by zero$"):
        div(1, 0)
    with pytest.raises(ZeroDivisionError, match=r"^float division by zero$"):
        div(1.0, 0)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ((2.5,), 3.0),
        ((3.5,), 4.0),
        ((-2.5,), -3.0),
        ((0.5,), 1.0),
        ((-0.5,), -1.0),
        ((2.4,), 2.0),
        ((7,), 7.0),
        ((2.675, 2), 2.67),  # 2.675 is 2.67499999... as a float, in Python 2.7 too
        ((0.125, 2), 0.13),
        ((1234.5, -1), 1230.0),
        ((1235, -1), 1240.0),
        ((1.0 / 3, 400), 1.0 / 3),
        ((12345.0, -400), 0.0),
    ],
)
def test_round_returns_a_float_rounding_halves_away_from_zero(arguments: tuple[Any, ...], expected: float) -> None:
    result = round_half_away(*arguments)
    assert (result, type(result)) == (expected, float)


def test_round_keeps_infinity_and_rejects_a_non_integer_ndigits() -> None:
    assert round_half_away(float("inf")) == float("inf")
    assert round_half_away(float("-inf"), 2) == float("-inf")
    with pytest.raises(TypeError, match=r"^ndigits must be an integer, got float$"):
        round_half_away(1.5, 1.0)


def by_length(left: str, right: str) -> int:
    return len(left) - len(right)


def test_sorted_and_sort_take_pythons_2_cmp_key_and_reverse() -> None:
    words = ["ccc", "a", "bb"]
    assert sorted_cmp(words, by_length) == ["a", "bb", "ccc"]
    assert sorted_cmp(words, by_length, None, True) == ["ccc", "bb", "a"]
    assert sorted_cmp(words, cmp=by_length, key=lambda w: w * 2) == ["a", "bb", "ccc"]
    assert sorted_cmp(words, key=len, reverse=True) == ["ccc", "bb", "a"]
    in_place = list(words)
    assert sort_cmp(in_place, by_length, reverse=True) is None
    assert in_place == ["ccc", "bb", "a"]


def test_sort_of_something_that_is_not_a_list_is_called_unchanged() -> None:
    items = [3, 1, 2]
    sort_cmp(Collections, items)
    assert items == [1, 2, 3]


# --- the translation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("python2", "python3"),
    [
        ("x = 7 / 2\n", "x = _xlr_py2_div(7, 2)\n"),
        ("x = a * b / c % d // e / f\n", "x = _xlr_py2_div(_xlr_py2_div(a * b, c) % d // e, f)\n"),
        ("x = -a / (b / c)\n", "x = _xlr_py2_div(-a, (_xlr_py2_div(b, c)))\n"),
        ('print "%d" % (n / 2)\n', 'print("%d" % (_xlr_py2_div(n, 2)))\n'),
        ("f = lambda n=1/2: [i/2 for i in n]\n", "f = lambda n=_xlr_py2_div(1, 2): [_xlr_py2_div(i, 2) for i in n]\n"),
        ("x = a // b\n", "x = a // b\n"),
        ("x /= 2\n", "x = _xlr_py2_div(x, 2)\n"),
        ("d['k'] /= n\n", "d['k'] = _xlr_py2_div(d['k'], n)\n"),
        ("self.total /= n\n", "self.total = _xlr_py2_div(self.total, n)\n"),
        ("d[key()] /= 2\n", "d[key()] /= 2\n"),
        ("m = int(round(t / 60.0))\n", "m = int(_xlr_py2_round(_xlr_py2_div(t, 60.0)))\n"),
        ("x = round(v, 2)\n", "x = _xlr_py2_round(v, 2)\n"),
        ("x = math.round(v)\n", "x = math.round(v)\n"),
        ("s = sorted(xs, by_date)\n", "s = _xlr_py2_sorted(xs, by_date)\n"),
        ("s = sorted(xs, cmp=f, reverse=True)\n", "s = _xlr_py2_sorted(xs, cmp=f, reverse=True)\n"),
        ("s = sorted(xs, key=f)\n", "s = sorted(xs, key=f)\n"),
        ("xs.sort(f)\n", "_xlr_py2_sort(xs, f)\n"),
        ("self.xs.sort(cmp=f, reverse=True)\n", "_xlr_py2_sort(self.xs, cmp=f, reverse=True)\n"),
        (
            "xs.sort(lambda a, b: cmp(a, b), reverse=True)\n",
            "_xlr_py2_sort(xs, lambda a, b: cmp(a, b), reverse=True)\n",
        ),
        ("Collections.sort(items)\n", "_xlr_py2_sort(Collections, items)\n"),
        ("xs.sort(key=len)\n", "xs.sort(key=len)\n"),
        ("xs.sort()\n", "xs.sort()\n"),
    ],
)
def test_python2_numbers_and_sorting_are_translated(python2: str, python3: str) -> None:
    assert to_python3(python2, "/p/s.py", "on") == python3


def test_a_script_with_future_division_keeps_true_division() -> None:
    source = 'from __future__ import division, print_function\nx = 7 / 2\nprint("x", x)\n'
    assert to_python3(source, "/p/s.py", "on") == '\nx = 7 / 2\nprint("x", x)\n'  # the import's line stays, empty
    assert run_translated("from __future__ import division\nx = 7 / 2\nprint x\n")["x"] == 3.5
    assert run_translated("from __future__ import (absolute_import,\n    division)\nx = 7 / 2\nprint x\n")["x"] == 3.5


def test_a_python2_script_with_any_future_import_translates_and_keeps_its_lines() -> None:
    source = '"""A plugin script."""\nfrom __future__ import with_statement\nprint "pages", 7 / 2\nboom = 1 / 0\n'
    with pytest.raises(ZeroDivisionError) as caught:
        run_translated(source, "/plugins/p/Future.py")
    frames = traceback.extract_tb(caught.value.__traceback__)
    assert [frame.lineno for frame in frames if frame.filename == "/plugins/p/Future.py"] == [4]


def test_a_round_or_sorted_the_script_defines_itself_is_not_replaced() -> None:
    source = 'def round(x):\n    return "mine"\nsorted = lambda xs, f: "also mine"\nprint "x"\na = round(2.5)\n'
    source += "b = sorted([2, 1], None)\n"
    namespace = run_translated(source)
    assert (namespace["a"], namespace["b"]) == ("mine", "also mine")


def test_division_and_sort_over_several_lines_keep_every_line_number() -> None:
    source = (
        'print "start"\n'
        "pages = (101 +\n"
        "         24\n"
        "         / 25)\n"
        "names = ['b', 'a']\n"
        "names.sort(\n"
        "    lambda x, y: cmp(x, y)\n"
        ")\n"
        "import os\n"
        "\n"
        "order = sorted(names, cmp=lambda x, y: cmp(y, x))\n"
        "half = pages / 2 \\\n"
        "    / 1\n"
        "raise ValueError('line %d' % (pages / 7))\n"
    )
    translated = to_python3(source, "/plugins/p/Pages.py")
    assert len(translated.splitlines()) == len(source.splitlines())
    with pytest.raises(ValueError) as caught:
        run_translated(source, "/plugins/p/Pages.py")
    assert str(caught.value) == "line 14"
    frames = traceback.extract_tb(caught.value.__traceback__)
    assert (frames[-1].filename, frames[-1].lineno) == ("/plugins/p/Pages.py", 14)


def test_the_values_a_translated_script_computes_are_python_2s() -> None:
    namespace = run_translated(
        "total, per_page = 101, 25\n"
        "pages = (total + per_page - 1) / per_page\n"
        "offset = -7 / 2\n"
        "n = 10\n"
        "n /= 4\n"
        "ratio = float(total) / per_page\n"
        'print "%s pages" % pages\n'
        "minutes = int(round(150000 / 1000.0 / 60.0))\n"
        "newest = sorted([3, 11, 7], lambda a, b: cmp(b, a))\n"
    )
    assert [namespace[name] for name in ("pages", "offset", "n", "ratio", "minutes", "newest")] == [
        5,
        -4,
        2,
        4.04,
        3,
        [11, 7, 3],
    ]


def test_a_translation_cached_by_an_older_translator_is_not_served(monkeypatch: pytest.MonkeyPatch) -> None:
    source = 'print "pages", 7 / 2\n'
    with monkeypatch.context() as old_translator:
        old_translator.setattr(translate_module, "TRANSLATOR_VERSION", "3")
        stale = cache_dir() / f"{cache_key(source, 'auto')}.py"
    stale.parent.mkdir(parents=True)
    stale.write_text('print("pages", 7 / 2)\n', encoding="utf-8")
    assert to_python3(source, "/p/s.py") == 'print("pages", _xlr_py2_div(7, 2))\n'


# --- real scripts through the worker pool -------------------------------------------------------------------


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    with WorkerPool(1) as workers:
        yield workers


def _stdout(result: ScriptRunResult) -> list[str]:
    assert result.outcome is RunOutcome.SUCCEEDED, result.failure
    return [line.text for line in result.log if line.stream == "stdout"]


def test_the_arithmetic_corpus_script_prints_python_2s_numbers_through_the_worker_pool(pool: WorkerPool) -> None:
    path = PY2 / "arithmetic.py"
    result = pool.run_sync(script_request(path.read_text(encoding="utf-8"), script_file=str(path)))
    assert _stdout(result)[:2] == [
        "5 pages, 2 minutes, offset -4, 2 left",
        "completed in 3 minutes [3.0, -1.0, 2.67, 1230.0, 7.0]",
    ]


def test_a_task_duration_check_reports_python_2s_rounded_minutes_through_the_worker_pool(pool: WorkerPool) -> None:
    # the computation of xlr-task-duration-check-plugin's taskDuration/CheckDuration.py, on a task that took 2.5 min
    source = (
        "from java.util import Date\n"
        "start = Date(1700000000000)\n"
        "end = Date(1700000000000 + 150000)\n"
        "totalDurationCalc = (end.getTime() - start.getTime()) / 1000.0 / 60.0\n"
        "totalDuration = int(round(totalDurationCalc))\n"
        'print "Task *%s* completed in %d minutes" % ("Deploy", totalDuration)\n'
        "pollIntervalMinutes = 90 / 60\n"
        'print "polling every %s minute(s)" % pollIntervalMinutes\n'
    )
    result = pool.run_sync(script_request(source, script_file="/plugins/xlr-task-duration/CheckDuration.py"))
    assert _stdout(result) == ["Task *Deploy* completed in 3 minutes", "polling every 1 minute(s)"]


def test_python3_scripts_keep_python_3_division_through_the_worker_pool(pool: WorkerPool) -> None:
    result = pool.run_sync(script_request("print(7 / 2, round(2.5), sorted([2, 1], key=abs))\n"))
    assert _stdout(result) == ["3.5 2 [1, 2]"]
