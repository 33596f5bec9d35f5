"""Running one script run in-process: namespace, end semantics, tracebacks, outputs, and the bounded task log."""

from __future__ import annotations

import sys
import time
import tracemalloc

import pytest

from xlr_runtime.errors import ScriptSyntaxError
from xlr_runtime.scripting.build import prop, script_request
from xlr_runtime.scripting.contract import CiValue, RunOutcome, ScheduleRequest, ScriptRunResult
from xlr_runtime.scripting.execution import compile_script, run_script
from xlr_runtime.scripting.tasklog import LINE_OVERHEAD

FILE = "/plugin/test/Script.py"
OUTPUTS = [
    prop("jobName"),
    prop("count", "integer", "output"),
    prop("tags", "set_of_string", "output"),
    prop("env", "map_string_string", "output"),
    prop("done", "boolean", "script"),
    prop("untouched", "string", "output"),
]


def run(source: str, **kwargs: object) -> ScriptRunResult:
    kwargs.setdefault("properties", OUTPUTS)
    return run_script(script_request(source, **kwargs))  # type: ignore[arg-type]


def texts(result: ScriptRunResult) -> list[str]:
    return [line.text for line in result.log]


def test_a_normal_end_succeeds_and_reads_outputs_back_coerced() -> None:
    result = run(
        "count = '42'\ntags = ['b', 'a', 'b']\nenv = {'K': 1}\nlocals()['done'] = 'true'\n",
        values={"jobName": "a"},
    )

    assert result.outcome is RunOutcome.SUCCEEDED
    assert result.succeeded
    assert result.failure is None
    assert result.properties == {"count": 42, "tags": ["b", "a"], "env": {"K": "1"}, "done": True, "untouched": None}
    assert result.run_id == 1
    assert result.started_at <= result.ended_at


def test_unset_properties_exist_as_none_and_inputs_are_globals() -> None:
    result = run("print(jobName, count, untouched)", values={"jobName": "build-me"})

    assert texts(result) == ["build-me None None"]


def test_the_namespace_is_one_dict_for_globals_and_locals() -> None:
    source = "def f():\n    return count\nlocals()['count'] = 5\nprint(f(), globals() is locals())"

    result = run(source)

    assert texts(result) == ["5 True"]
    assert result.properties["count"] == 5


def test_script_globals_xl_release_provides() -> None:
    source = (
        "print(__name__)\n"
        "print(sys.version_info[0], HttpRequest.__name__, HttpResponse.__name__, JsonPathResult.__name__)\n"
        "print(releaseVariables['v'], globalVariables, folderVariables)\n"
        "print(str(task.getTaskType()), task.id, task.title)\n"
        "if __name__ == '__builtin__':\n    print('main guard')\n"
    )

    result = run(source, variables={"releaseVariables": {"v": "1"}}, type_name="jenkins.Build")

    assert texts(result) == [
        "__builtin__",
        "3 HttpRequest HttpResponse JsonPathResult",
        "1 {} {}",
        "jenkins.Build task-1 Test task",
        "main guard",
    ]


def test_ci_properties_are_objects_in_every_style() -> None:
    server = CiValue("Jenkins", "jenkins.Server", {"url": "http://j"})
    result = run(
        "print(server['url'], server.url, server.getUrl(), [s.ci_name for s in more])",
        properties=[prop("server", "ci"), prop("more", "list_of_ci")],
        cis={"server": server, "more": [server, CiValue("B", "jenkins.Server", {})]},
    )

    assert texts(result) == ["http://j http://j http://j ['Jenkins', 'B']"]


@pytest.mark.parametrize("ending", ["", "sys.exit(0)", "sys.exit(None)", "sys.exit()", "sys.exit(False)"])
def test_success_endings(ending: str) -> None:
    result = run(f"count = 1\n{ending}\ncount = 2")

    assert result.outcome is RunOutcome.SUCCEEDED
    assert result.properties["count"] == (2 if not ending else 1)


@pytest.mark.parametrize(
    ("ending", "message"),
    [
        ("sys.exit(1)", "script exited with code 1"),
        ("sys.exit(3)", "script exited with code 3"),
        ("sys.exit(True)", "script exited with code True"),
        ("sys.exit('Build failed')", "Build failed"),
    ],
)
def test_failure_endings(ending: str, message: str) -> None:
    result = run(f"task.schedule('x.py')\ncount = 1\n{ending}")

    assert result.outcome is RunOutcome.FAILED
    assert result.failure is not None
    assert (result.failure.kind, result.failure.message) == ("SystemExit", message)
    assert f'File "{FILE}", line 3, in <module>' in result.failure.traceback
    assert result.properties == {}
    assert result.schedule is None


def test_an_exception_fails_with_a_traceback_naming_the_script_file_and_line() -> None:
    source = "import json\n\ndef check(value):\n    raise ValueError('bad value %s' % value)\n\ncheck(3)\n"

    result = run(source)

    assert result.outcome is RunOutcome.FAILED
    assert result.failure is not None
    assert result.failure.kind == "ValueError"
    assert result.failure.message == f"{FILE}:4: ValueError: bad value 3"
    assert result.failure.traceback == (
        "Traceback (most recent call last):\n"
        f'  File "{FILE}", line 6, in <module>\n'
        "    check(3)\n"
        f'  File "{FILE}", line 4, in check\n'
        "    raise ValueError('bad value %s' % value)\n"
        "ValueError: bad value 3\n"
    )


def test_a_translated_script_shows_the_authors_lines_without_markers_where_the_translation_rewrote_them() -> None:
    source = 'd = {"a": 1}\nprint "checking"\nif d.has_key("a"):\n    total = d.has_key("b") + None\n'

    result = run(source)

    assert result.failure is not None
    assert result.failure.traceback == (
        "Traceback (most recent call last):\n"
        f'  File "{FILE}", line 4, in <module>\n'
        '    total = d.has_key("b") + None\n'
        "TypeError: unsupported operand type(s) for +: 'bool' and 'NoneType'\n"
    )


def test_an_untranslated_line_keeps_its_column_markers_in_a_translated_script() -> None:
    source = 'print "checking"\nd = {}\nvalue = d["a"] + 1\n'

    result = run(source)

    assert result.failure is not None
    assert f'  File "{FILE}", line 3, in <module>\n    value = d["a"] + 1\n            ~^^^^^\nKeyError' in (
        result.failure.traceback
    )


def test_an_exception_raised_by_the_api_keeps_the_script_frame_first() -> None:
    result = run("JsonPathResult('not json', 'a')")

    assert result.failure is not None
    assert result.failure.message.startswith(f"{FILE}:1: ScriptError: JsonPathResult: the text is not JSON")
    assert result.failure.traceback.startswith(f'Traceback (most recent call last):\n  File "{FILE}", line 1')


def test_a_multi_line_exception_message_becomes_one_line() -> None:
    result = run("raise Exception('first\\nsecond')")

    assert result.failure is not None
    assert result.failure.message == f"{FILE}:1: Exception: first second"


def test_a_syntax_error_names_file_and_line() -> None:
    result = run("x = 1\nif x\n    pass\n", translate="off")

    assert result.outcome is RunOutcome.FAILED
    assert result.failure is not None
    assert result.failure.kind == "SyntaxError"
    assert result.failure.message == f"{FILE}:2: SyntaxError: expected ':'"
    assert result.failure.traceback == f"  File \"{FILE}\", line 2\n    if x\nSyntaxError: expected ':'\n"


def test_compile_script_raises_a_located_syntax_error() -> None:
    with pytest.raises(ScriptSyntaxError) as caught:
        compile_script(script_request("x = (", translate="off"))
    assert str(caught.value) == f"{FILE}:1: '(' was never closed"


def test_an_output_that_cannot_be_coerced_fails_the_run() -> None:
    result = run("count = 'many'")

    assert result.outcome is RunOutcome.FAILED
    assert result.failure is not None
    assert result.failure.kind == "ValueCoercionError"
    assert result.failure.message == "output property 'count' (integer): 'many' is not an integer"
    assert result.properties == {}


def test_status_line_and_schedule_are_returned() -> None:
    result = run("task.setStatusLine('Build queued')\ntask.schedule('test/Script.wait.py', 2)")

    assert result.status_line == "Build queued"
    assert result.schedule == ScheduleRequest("test/Script.wait.py", 2.0)


def test_properties_set_through_python_script_survive_a_failure() -> None:
    result = run("task.pythonScript.setProperty('count', '7')\ncount = 8\ntags = ['x']\nsys.exit(1)")

    assert result.outcome is RunOutcome.FAILED
    assert result.properties == {"count": 8}


def test_print_and_stderr_become_time_stamped_lines_in_order() -> None:
    before = time.time()
    result = run(
        "import sys\nprint('one')\nsys.stderr.write('two\\n')\nprint('three', end='')\nprint(' four')\n"
        "sys.stdout.write('partial')"
    )

    assert [(line.stream, line.text) for line in result.log] == [
        ("stdout", "one"),
        ("stderr", "two"),
        ("stdout", "three four"),
        ("stdout", "partial"),
    ]
    times = [line.time for line in result.log]
    assert times == sorted(times)
    assert before <= times[0] <= time.time()


def test_the_process_streams_are_restored_after_a_run() -> None:
    saved = sys.stdout, sys.stderr
    run("print('x')\nraise SystemExit(2)")

    assert (sys.stdout, sys.stderr) == saved


def test_a_script_printing_50_mb_keeps_a_bounded_log() -> None:
    limit = 100_000
    tracemalloc.start()
    try:
        result = run_script(
            script_request("chunk = 'x' * (1024 * 1024)\nfor _ in range(50):\n    print(chunk)\n"), max_log_bytes=limit
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.outcome is RunOutcome.SUCCEEDED
    assert sum(len(line.text) + LINE_OVERHEAD for line in result.log[:-1]) <= limit
    assert result.log[-1].stream == "system"
    assert result.log[-1].text == (
        f"[output truncated: the task log keeps {limit} bytes per script run; further output was dropped]"
    )
    assert peak < 8 * 1024 * 1024  # the 1 MB chunk and its copies, never the 50 MB


def test_many_small_lines_are_bounded_too() -> None:
    result = run_script(script_request("for i in range(200000):\n    print(i)\n"), max_log_bytes=50_000)

    assert len(result.log) < 50_000 // LINE_OVERHEAD + 2
    assert result.log[-1].stream == "system"


def test_compiled_code_is_cached_per_content_and_path() -> None:
    first = compile_script(script_request("x = 1", script_file="/p/a.py"))

    assert compile_script(script_request("x = 1", script_file="/p/a.py")) is first
    assert compile_script(script_request("x = 2", script_file="/p/a.py")) is not first
    assert compile_script(script_request("x = 1", script_file="/p/b.py")).co_filename == "/p/b.py"
