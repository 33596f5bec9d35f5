"""Run ONE script run in the current process: build its namespace, execute it, and read back what it produced.

This is what a worker process does for each request (:mod:`xlr_runtime.scripting.worker`); tests and the
in-process benchmark baseline call :func:`run_script` directly. It swaps ``sys.stdout``/``sys.stderr`` for the
duration of the run (in a worker, it binds the run's log to the running thread instead, see
:func:`xlr_runtime.scripting.tasklog.route_output`), so it must not run two scripts at once in one process.

How a run ends:

* normal end, ``sys.exit()``, ``sys.exit(0)``, ``sys.exit(None)`` -> ``SUCCEEDED``; output and script properties
  are read back from the namespace and coerced to their kinds;
* ``sys.exit(n)`` with ``n != 0`` -> ``FAILED`` "script exited with code n"; ``sys.exit("message")`` ->
  ``FAILED`` with that message;
* an uncaught exception -> ``FAILED`` ``path:line: Type: message`` with a traceback whose frames name the
  script's own path and line (our frames trimmed).

Only properties set through ``task.pythonScript.setProperty`` are kept from a failed run.
"""

from __future__ import annotations

import functools
import linecache
import sys
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from types import CodeType, TracebackType
from typing import Any

from xlr_runtime.compat import modules
from xlr_runtime.compat.script_globals import XLR_API_HINT, XLR_API_NAMES
from xlr_runtime.compat.shims import py2_semantics
from xlr_runtime.errors import (
    ScriptError,
    ScriptSyntaxError,
    UnsupportedImportError,
    ValueCoercionError,
    XlrError,
    location,
)
from xlr_runtime.mask import masking
from xlr_runtime.plugins import build_plugin_manager
from xlr_runtime.scripting.api import ConfigurationItem, ScriptTask
from xlr_runtime.scripting.contract import CiValue, Failure, RunOutcome, ScriptRunRequest, ScriptRunResult
from xlr_runtime.scripting.http import HttpRequest, HttpResponse
from xlr_runtime.scripting.jsonpath import JsonPathResult
from xlr_runtime.scripting.masking import Listener, Masker, masker_for
from xlr_runtime.scripting.recording import recording
from xlr_runtime.scripting.tasklog import TaskLog, capture, release
from xlr_runtime.scripting.xlr_api import LocalXlr, bound
from xlr_runtime.typesystem.kinds import coerce

#: The script globals holding variables, and the keys of :attr:`ScriptRunRequest.variables` they read.
VARIABLE_GLOBALS = ("releaseVariables", "globalVariables", "folderVariables")

_CODE_CACHE_SIZE = 256
#: (source, script file, translate mode) -> (code, the author's lines, the compiled lines).
_code_cache: OrderedDict[tuple[str, str, str], tuple[CodeType, list[str], list[str]]] = OrderedDict()


def run_script(
    request: ScriptRunRequest,
    *,
    max_log_bytes: int | None = None,
    on_log: Callable[[TaskLog], None] | None = None,
    on_secrets: Listener | None = None,
) -> ScriptRunResult:
    """Execute ``request`` here and now and return its result (the log and every text in it masked).

    ``on_log`` is called with the run's :class:`TaskLog` before the script starts (the worker streams lines
    from it while the script runs). ``on_secrets`` is called with the secrets (and usernames) the run's masker
    learns while the script runs, before the script gets them (the worker reports them to its pool).
    ``max_log_bytes`` defaults to the ``scripts.max_log_bytes`` setting's default.
    """
    if max_log_bytes is None:
        from xlr_runtime.settings import defaults  # a worker is always given its pool's setting

        max_log_bytes = defaults()["scripts.max_log_bytes"]
    masker = masker_for(request)
    if on_secrets is not None:
        masker.listen(on_secrets)
    log = TaskLog(max_log_bytes, masker)
    if on_log is not None:
        on_log(log)
    started = time.time()
    namespace, xlr = _build_namespace(request)
    task: ScriptTask = namespace["task"]
    # secrets the script obtains while it runs (an OAuth2 token) are masked too; XLReleaseServiceHolder hands
    # out this run's releaseApi and taskApi; a test harness may record or replay its HTTP exchanges
    with masking(masker), bound(xlr), recording(request.http_cassette, request.run_id, masker):
        outcome, failure = _execute(request, namespace, log)
    properties: dict[str, Any] = {}
    variables: dict[str, dict[str, Any]] | None = None
    if outcome is RunOutcome.SUCCEEDED:
        try:
            properties = read_back(request, namespace, everything=True)
            variables = changed_variables(request, namespace)
        except ValueCoercionError as exc:
            outcome, failure = RunOutcome.FAILED, Failure("ValueCoercionError", f"output {exc}")
        except ScriptError as exc:
            outcome, failure = RunOutcome.FAILED, Failure("ScriptError", str(exc))
        except Exception as exc:  # the script's own objects raised while read back: the run fails, masked
            outcome, failure = RunOutcome.FAILED, Failure("ScriptError", f"output: {type(exc).__name__}: {exc}")
    else:
        properties = _kept_after_failure(request, namespace)
    lines = log.close()
    return ScriptRunResult(
        run_id=request.run_id,
        outcome=outcome,
        properties=_masked_properties(request, masker, properties),
        status_line=masker.mask(task.status_line) if task.status_line is not None else None,
        schedule=task.schedule_request if outcome is RunOutcome.SUCCEEDED else None,
        variables=masker.mask_value(variables) if variables is not None and outcome is RunOutcome.SUCCEEDED else None,
        log=lines,
        failure=masker.mask_failure(failure) if failure is not None else None,
        started_at=started,
        ended_at=time.time(),
    )


def build_namespace(request: ScriptRunRequest) -> dict[str, Any]:
    """The ONE dict a script runs in (globals and locals): its properties, CIs, ``task`` and the API (XL Release's
    ``releaseApi``, ``taskApi`` … come before the properties, so a property of the same name wins)."""
    return _build_namespace(request)[0]


def _build_namespace(request: ScriptRunRequest) -> tuple[dict[str, Any], LocalXlr]:
    namespace: dict[str, Any] = dict(extra_globals())
    xlr = LocalXlr(request, namespace)
    namespace.update(xlr.globals())
    namespace.update(dict.fromkeys(request.task_type.properties))
    namespace.update(request.properties)
    for name, ci in request.cis.items():
        namespace[name] = _ci_object(ci)
    namespace["task"] = ScriptTask(request.task_id, request.title, request.task_type, namespace)
    for variable_global in VARIABLE_GLOBALS:
        namespace[variable_global] = dict(request.variables.get(variable_global, {}))
    namespace.update(
        __name__="__builtin__",
        sys=sys,
        HttpRequest=HttpRequest,
        HttpResponse=HttpResponse,
        JsonPathResult=JsonPathResult,
    )
    return namespace, xlr


@functools.cache
def extra_globals() -> dict[str, Any]:
    """Globals that runtime plugins add through ``xlr_script_globals`` (the compat shims' ``logger``,
    ``CredentialsFallback``…), gathered once per worker process; the task's own names win over them."""
    merged: dict[str, Any] = {}
    for contribution in reversed(build_plugin_manager().hook.xlr_script_globals()):
        merged.update(contribution or {})
    return merged


def compile_script(request: ScriptRunRequest) -> CodeType:
    """The script's code object, compiled under ``request.script_file`` (cached per file content) after
    :func:`xlr_runtime.compat.translate.to_python3`; raises :class:`ScriptSyntaxError` (``path:line: message``).

    Tracebacks show the author's lines, not the translation's (the translation keeps line numbers)."""
    # The source text itself is the key: a worker's decoder hands every run of a script the same str object,
    # whose hash Python keeps, so a cache hit costs no re-hashing of the text.
    key = (request.source, request.script_file, request.translate)
    cached = _code_cache.get(key)
    if cached is not None:
        _code_cache.move_to_end(key)
        code, shown, _ = cached
        linecache.cache[request.script_file] = (sum(map(len, shown)), None, shown, request.script_file)
        return code
    try:
        code, shown, compiled = modules.compile_source(request.source, request.script_file, request.translate)
    except SyntaxError as exc:  # as Python 3, or after translation from Python 2
        raise ScriptSyntaxError(exc.msg, path=request.script_file, line=exc.lineno) from None
    _code_cache[key] = (code, shown, compiled)
    if len(_code_cache) > _CODE_CACHE_SIZE:
        _code_cache.popitem(last=False)
    return code


def read_back(request: ScriptRunRequest, namespace: dict[str, Any], *, everything: bool) -> dict[str, Any]:
    """Output and script properties (all of them when ``everything``, else only those set through
    ``pythonScript.setProperty``), coerced to their kinds; raises :class:`ValueCoercionError`."""
    task: ScriptTask = namespace["task"]
    names = [p.name for p in request.task_type.properties.values() if p.is_output or p.is_script] if everything else []
    names += [n for n in task.pythonScript.set_names if n not in names]
    properties: dict[str, Any] = {}
    for name in names:
        prop = request.task_type.properties[name]
        try:
            properties[name] = coerce(prop.name, prop.kind, namespace.get(name), prop.enum_values)
        except ValueCoercionError:
            raise
        except Exception as exc:  # the value's own code raised (a __str__): the run fails, its text masked
            raise ValueCoercionError(prop.name, prop.kind.value, f"{type(exc).__name__}: {exc}") from None
    return properties


def changed_variables(request: ScriptRunRequest, namespace: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """The three variable maps as the script left them, or ``None`` when it changed none of them.

    A value must be storable as JSON (text, number, boolean, ``None``, or lists and string-keyed dicts of
    them); anything else raises :class:`ScriptError` naming the map and the key.
    """
    maps: dict[str, dict[str, Any]] = {}
    for name in VARIABLE_GLOBALS:
        value = namespace.get(name)
        if not isinstance(value, dict):
            raise ScriptError(f"{name} must stay a dict, the script made it a {type(value).__name__}")
        for key, item in value.items():
            if not isinstance(key, str) or not _storable(item):
                raise ScriptError(
                    f"{name}[{key!r}]: a value of type {type(item).__name__} cannot be stored as a variable "
                    "(use text, numbers, booleans, None, lists or dicts)"
                )
        maps[name] = dict(value)
    before = {name: dict(request.variables.get(name, {})) for name in VARIABLE_GLOBALS}
    return None if maps == before else maps


def _storable(value: Any) -> bool:
    if value is None or isinstance(value, str | bool | int | float):
        return True
    if isinstance(value, list | tuple):
        return all(_storable(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _storable(item) for key, item in value.items())
    return False


def _execute(request: ScriptRunRequest, namespace: dict[str, Any], log: TaskLog) -> tuple[RunOutcome, Failure | None]:
    modules.activate(request.module_path)  # the plugin roots this script imports its plugins' modules from
    try:
        code = compile_script(request)
    except ScriptSyntaxError as exc:  # as Python 3, or after translation from Python 2
        return RunOutcome.FAILED, _syntax_failure(exc)
    except XlrError as exc:  # the script cannot be translated
        return RunOutcome.FAILED, Failure(type(exc).__name__, str(exc))
    saved = capture(log)
    try:
        exec(code, namespace, namespace)
    except SystemExit as exc:
        return _exit_outcome(request, exc)
    except BaseException as exc:  # the script's own failure, whatever it is
        return RunOutcome.FAILED, _exception_failure(request, exc)
    finally:
        release(saved)
    return RunOutcome.SUCCEEDED, None


def _syntax_failure(exc: ScriptSyntaxError) -> Failure:
    where = location(exc.path, exc.line)
    shown = linecache.getline(exc.path, exc.line).strip() if exc.path and exc.line else ""
    display = f'  File "{exc.path}", line {exc.line}\n' + (f"    {shown}\n" if shown else "")
    return Failure("SyntaxError", f"{where}: SyntaxError: {exc.detail}", f"{display}SyntaxError: {exc.detail}\n")


def _exit_outcome(request: ScriptRunRequest, exc: SystemExit) -> tuple[RunOutcome, Failure | None]:
    code = exc.code
    if code is None or (isinstance(code, int) and code == 0):
        return RunOutcome.SUCCEEDED, None
    message = f"script exited with code {code}" if isinstance(code, int) else str(code)
    return RunOutcome.FAILED, Failure("SystemExit", _one_line(message), _script_traceback(request, exc))


def _exception_failure(request: ScriptRunRequest, exc: BaseException) -> Failure:
    """``path:line: Type: message`` at the deepest frame of the plugin's code (the script, or a plugin module it
    imported); a module that does not compile at its own line; an unsupported import as its own one line."""
    kind = type(exc).__name__
    if isinstance(exc, UnsupportedImportError) and exc.path:  # already ``path:line: import of 'x' is not ...``
        return Failure(kind, _one_line(str(exc)), _script_traceback(request, exc))
    text = _one_line(f"{kind}: {exc}" if str(exc) else kind)
    if isinstance(exc, NameError) and exc.name in XLR_API_NAMES:  # releaseApi, taskApi … of the XL Release server
        text += XLR_API_HINT
    where = _deepest_plugin_frame(request, exc.__traceback__)
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno and exc.msg:  # an imported module's own error
        where, text = location(exc.filename, exc.lineno), _one_line(f"{kind}: {exc.msg}")
    located = f"{where}: {text}" if where and not str(exc).startswith(where) else text
    return Failure(kind, located, _script_traceback(request, exc))


def _script_traceback(request: ScriptRunRequest, exc: BaseException) -> str:
    """The traceback from the script's first frame on (our exec frame removed), with the author's lines; a line
    the translation rewrote (in the script or a plugin module) is shown without the column markers, which point
    into the translated text, and the Python 2 semantics helpers the translation calls are left out, as Python 2's
    own built-ins would be."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != request.script_file:
        tb = tb.tb_next
    summary = traceback.TracebackException(type(exc), exc, tb or exc.__traceback__)
    summary.stack = traceback.StackSummary.from_list(
        [frame for frame in summary.stack if frame.filename != py2_semantics.__file__]
    )
    cached = _code_cache.get((request.source, request.script_file, request.translate))
    for frame in summary.stack:
        if frame.filename == request.script_file:
            lines = cached[1:] if cached is not None else None
        else:
            lines = modules.translated_lines(frame.filename)
        if lines is not None and _line(lines[0], frame.lineno) != _line(lines[1], frame.lineno):
            frame.colno = frame.end_colno = None
    return "".join(summary.format())


def _line(lines: list[str], lineno: int | None) -> str | None:
    return lines[lineno - 1].rstrip() if lineno and 0 < lineno <= len(lines) else None


def _deepest_plugin_frame(request: ScriptRunRequest, tb: TracebackType | None) -> str | None:
    """``path:line`` of the deepest frame in the script or in a plugin module."""
    where = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename == request.script_file or modules.translated_lines(filename) is not None:
            where = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip()) or text


def _kept_after_failure(request: ScriptRunRequest, namespace: dict[str, Any]) -> dict[str, Any]:
    try:
        return read_back(request, namespace, everything=False)
    except ValueCoercionError:
        return {}


def _masked_properties(request: ScriptRunRequest, masker: Masker, properties: dict[str, Any]) -> dict[str, Any]:
    secret = set(request.task_type.password_properties)
    return {name: value if name in secret else masker.mask_value(value) for name, value in properties.items()}


def _ci_object(value: CiValue | list[CiValue]) -> ConfigurationItem | list[ConfigurationItem]:
    if isinstance(value, CiValue):
        return ConfigurationItem(value)
    return [ConfigurationItem(item) for item in value]
