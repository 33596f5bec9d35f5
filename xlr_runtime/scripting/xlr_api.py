"""The part of XL Release's server API a script can use locally: ``releaseApi``, ``taskApi``,
``getCurrentRelease()``, ``getCurrentTask()``, ``release`` and ``XLReleaseServiceHolder.getReleaseApi()`` /
``getTaskApi()``, backed by what one run has.

* The release's variables are the task's ``releaseVariables`` map. Reads see it as the script left it so far;
  writes (``updateVariable``, ``createVariable``, ``deleteVariable``) change that map, exactly as a script
  assigning ``releaseVariables['key'] = value`` does, so they are kept with the task when the run succeeds.
  A variable's ``key`` is the bare name (``version``); ``getVariableValues()`` maps ``${version}`` to its value,
  as XL Release does, and ``createVariable`` accepts either form.
* ``taskApi.getTask(id)`` of the running task: its id, title, type, status line and property values as stored
  when the run started (password values read as ``********``).
* ``taskApi.commentTask(id, comment)`` writes ``Comment: text`` to the task log.

There is one release: the running task's (its id is ``Applications/Release-<task id>``), and one task. Every
other method of these objects raises :class:`UnsupportedApiError` when called, at the script's line:
``releaseApi.createRelease is not available in xlr-runtime``.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from collections.abc import Callable, Iterator
from typing import Any

from xlr_runtime.compat.beans import bean_property
from xlr_runtime.errors import ScriptError, UnsupportedApiError
from xlr_runtime.mask import MASK
from xlr_runtime.scripting.api import ScriptTask, TypeName
from xlr_runtime.scripting.contract import ScriptRunRequest

#: The status a task has while its script runs, as ``getStatus()`` reports it.
IN_PROGRESS = "IN_PROGRESS"

#: The classes scripts build and hand to ``releaseApi``/``taskApi``, by the Java package they import them from
#: (the shim finder of :mod:`xlr_runtime.compat.imports` serves this module under both names, each with its class).
JAVA_PACKAGES = {
    "com.xebialabs.xlrelease.api.v1.forms": {"Variable"},
    "com.xebialabs.xlrelease.domain": {"Comment"},
}


def unsupported(owner: str, name: str) -> Callable[..., Any]:
    """A stand-in for method ``owner.name`` that raises :class:`UnsupportedApiError` when called."""

    def call(*args: Any, **kwargs: Any) -> Any:
        raise UnsupportedApiError(f"{owner}.{name} is not available in xlr-runtime")

    call.__name__ = name
    return call


def variable_key(key: Any) -> str:
    """``version`` for ``version`` or ``${version}``."""
    text = str(key).strip()
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1].strip()
    return text


def _variable_type(value: Any) -> str:
    if isinstance(value, bool):
        return "xlrelease.BooleanVariable"
    if isinstance(value, int):
        return "xlrelease.IntegerVariable"
    if isinstance(value, list | tuple):
        return "xlrelease.ListStringVariable"
    if isinstance(value, dict):
        return "xlrelease.MapStringStringVariable"
    return "xlrelease.StringVariable"


class _Partial:
    """An XL Release API object of which only some methods are provided: any other raises
    :class:`UnsupportedApiError` naming ``_OWNER`` and the method, when called."""

    _OWNER = ""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return unsupported(self._OWNER, name)


class _Bean:
    """Fields read and written as ``b.key``, ``b.getKey()``, ``b.setKey(v)`` (``isX()`` for booleans); any other
    method raises :class:`UnsupportedApiError` when called."""

    _FIELDS: tuple[str, ...] = ()
    _OWNER = ""

    def __init__(self, **values: Any) -> None:
        object.__setattr__(self, "_values", dict.fromkeys(self._FIELDS))
        self._values.update(values)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        values = self._values
        if name in values:
            return values[name]
        prop = bean_property(name)
        if prop is not None and prop in values:
            return lambda: values[prop]
        if name.startswith("set") and name[3:4].isupper():
            field = name[3].lower() + name[4:]
            if field in values:
                return lambda value: values.__setitem__(field, value)
        return unsupported(self._OWNER, name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._values[name] = value


class Variable(_Bean):
    """``Variable(key, value)``: a release variable as ``releaseApi`` hands it out and takes it back
    (``com.xebialabs.xlrelease.api.v1.forms.Variable``)."""

    _FIELDS = ("id", "key", "value", "type", "label", "description", "requiresValue", "showOnReleaseStart")
    _OWNER = "Variable"

    def __init__(self, key: Any = None, value: Any = None, requiresValue: Any = None, showOnReleaseStart: Any = None):
        super().__init__(key=key, value=value, requiresValue=requiresValue, showOnReleaseStart=showOnReleaseStart)

    def __repr__(self) -> str:
        return f"Variable({self.key!r}, {self.value!r})"


class Comment(_Bean):
    """``Comment(text)`` or ``Comment()`` + ``setComment(text)``, for ``taskApi.commentTask``."""

    _FIELDS = ("id", "comment", "author", "date")
    _OWNER = "Comment"

    def __init__(self, comment: Any = None) -> None:
        super().__init__(comment=comment)

    def __str__(self) -> str:
        return "" if self.comment is None else str(self.comment)


class LocalXlr:
    """One run's API objects: its release (the task's ``releaseVariables``) and its task."""

    def __init__(self, request: ScriptRunRequest, namespace: dict[str, Any]) -> None:
        self.request = request
        self.namespace = namespace
        self.release_id = f"Applications/Release-{request.task_id}"
        self.release_api = ReleaseApi(self)
        self.task_api = TaskApi(self)

    def globals(self) -> dict[str, Any]:
        """The script globals this run's API adds."""
        return {
            "releaseApi": self.release_api,
            "taskApi": self.task_api,
            "release": self.current_release(),
            "getCurrentRelease": self.current_release,
            "getCurrentTask": self.current_task,
        }

    def current_release(self) -> Release:
        """``getCurrentRelease()``."""
        return Release(self)

    def current_task(self) -> ApiTask:
        """``getCurrentTask()``."""
        return ApiTask(self)

    # -- the release's variables: the script's ``releaseVariables`` map

    def variables(self) -> dict[str, Any]:
        value = self.namespace.get("releaseVariables")
        if not isinstance(value, dict):
            raise ScriptError(f"releaseVariables must stay a dict, the script made it a {type(value).__name__}")
        return value

    def variable(self, key: str) -> Variable:
        value = self.variables()[key]
        variable = Variable(key, value)
        variable.id, variable.type = self.variable_id(key), _variable_type(value)
        return variable

    def variable_id(self, key: str) -> str:
        return f"{self.release_id}/Variable/{key}"

    def key_of(self, method: str, variable_id: Any) -> str:
        prefix = f"{self.release_id}/Variable/"
        text = str(variable_id)
        if not text.startswith(prefix) or text[len(prefix) :] not in self.variables():
            raise ScriptError(f"{method}: no variable {text!r} in the current release")
        return text[len(prefix) :]

    def check_release(self, method: str, release_id: Any) -> None:
        if str(release_id) != self.release_id:
            raise ScriptError(
                f"{method}: release {release_id!r} is not the current release {self.release_id!r} "
                "(xlr-runtime knows only the running task's release)"
            )

    def check_task(self, method: str, task_id: Any) -> None:
        if str(task_id) != self.request.task_id:
            raise ScriptError(
                f"{method}: task {task_id!r} is not the running task {self.request.task_id!r} "
                "(xlr-runtime knows only the running task)"
            )


class ReleaseApi(_Partial):
    """``releaseApi``: the current release's variables; every other method is unsupported."""

    _OWNER = "releaseApi"

    def __init__(self, xlr: LocalXlr) -> None:
        self._xlr = xlr

    def getRelease(self, releaseId: str) -> Release:
        """The current release (the only one there is)."""
        self._xlr.check_release("releaseApi.getRelease", releaseId)
        return self._xlr.current_release()

    def getVariables(self, releaseId: str) -> list[Variable]:
        """The release's variables, one :class:`Variable` each."""
        self._xlr.check_release("releaseApi.getVariables", releaseId)
        return [self._xlr.variable(key) for key in self._xlr.variables()]

    def getVariableValues(self, releaseId: str) -> dict[str, Any]:
        """``{'${key}': value}`` for every variable."""
        self._xlr.check_release("releaseApi.getVariableValues", releaseId)
        return {f"${{{key}}}": value for key, value in self._xlr.variables().items()}

    def getVariable(self, variableId: str) -> Variable:
        """The variable with id ``variableId`` (a :class:`Variable`'s ``id``)."""
        return self._xlr.variable(self._xlr.key_of("releaseApi.getVariable", variableId))

    def createVariable(self, releaseId: str, variable: Variable) -> Variable:
        """Add ``variable`` (its key bare or as ``${key}``) to the release; an existing key is an error."""
        self._xlr.check_release("releaseApi.createVariable", releaseId)
        key = variable_key(_field(variable, "key"))
        if not key:
            raise ScriptError("releaseApi.createVariable: the variable has no key")
        if key in self._xlr.variables():
            raise ScriptError(f"releaseApi.createVariable: variable {key!r} already exists in the current release")
        self._xlr.variables()[key] = _field(variable, "value")
        return self._xlr.variable(key)

    def updateVariable(self, *args: Any) -> Variable:
        """``updateVariable(variable)`` or ``updateVariable(variableId, variable)``: set an existing variable's
        value."""
        if len(args) not in (1, 2):
            raise ScriptError("releaseApi.updateVariable takes (variable) or (variableId, variable)")
        variable = args[-1]
        if len(args) == 2:
            key = self._xlr.key_of("releaseApi.updateVariable", args[0])
        else:
            key = variable_key(_field(variable, "key"))
            if key not in self._xlr.variables():
                raise ScriptError(f"releaseApi.updateVariable: no variable {key!r} in the current release")
        self._xlr.variables()[key] = _field(variable, "value")
        return self._xlr.variable(key)

    def updateVariables(self, releaseId: str, variables: list[Variable]) -> list[Variable]:
        """:meth:`updateVariable` for each of ``variables``."""
        self._xlr.check_release("releaseApi.updateVariables", releaseId)
        return [self.updateVariable(variable) for variable in variables]

    def deleteVariable(self, variableId: str) -> None:
        """Remove the variable with id ``variableId``."""
        del self._xlr.variables()[self._xlr.key_of("releaseApi.deleteVariable", variableId)]


class TaskApi(_Partial):
    """``taskApi``: the running task and its comments; every other method is unsupported."""

    _OWNER = "taskApi"

    def __init__(self, xlr: LocalXlr) -> None:
        self._xlr = xlr

    def getTask(self, taskId: str) -> ApiTask:
        """The running task."""
        self._xlr.check_task("taskApi.getTask", taskId)
        return self._xlr.current_task()

    def commentTask(self, taskId: str, comment: Any) -> Comment:
        """Write ``Comment: text`` to the task log; ``comment`` is a :class:`Comment` or text."""
        self._xlr.check_task("taskApi.commentTask", taskId)
        text = str(comment) if isinstance(comment, Comment) else ("" if comment is None else str(comment))
        sys.stdout.write(f"Comment: {text}\n")
        return comment if isinstance(comment, Comment) else Comment(text)


class Release(_Partial):
    """The current release: ``id``, ``title`` and its variables."""

    _OWNER = "Release"

    def __init__(self, xlr: LocalXlr) -> None:
        self._xlr = xlr
        self.id = xlr.release_id
        self.title = f"Release of {xlr.request.title}"
        self.status = IN_PROGRESS

    @property
    def variables(self) -> list[Variable]:
        """The release's variables."""
        return self._xlr.release_api.getVariables(self.id)

    def getId(self) -> str:
        """The release's id."""
        return self.id

    def getTitle(self) -> str:
        """The release's title."""
        return self.title

    def getStatus(self) -> str:
        """``IN_PROGRESS``."""
        return self.status

    def getVariables(self) -> list[Variable]:
        """The release's variables."""
        return self.variables

    def getVariableValues(self) -> dict[str, Any]:
        """``{'${key}': value}`` for every variable."""
        return self._xlr.release_api.getVariableValues(self.id)

    def __repr__(self) -> str:
        return f"<release {self.id}>"


class TaskScript:
    """``getTask(id).pythonScript``: the task's property values when the run started, passwords masked."""

    def __init__(self, xlr: LocalXlr) -> None:
        self._xlr = xlr

    def getProperty(self, name: str) -> Any:
        """The value of property ``name``."""
        request = self._xlr.request
        prop = request.task_type.properties.get(name)
        if prop is None:
            raise ScriptError(f"{request.task_type.name} has no property {name!r}")
        if name in request.cis:
            return self._xlr.namespace.get(name)
        value = request.properties.get(name)
        return MASK if prop.password and value not in (None, "") else value

    def hasProperty(self, name: str) -> bool:
        """True when the task type defines ``name``."""
        return name in self._xlr.request.task_type.properties

    def getType(self) -> TypeName:
        """The task's type."""
        return TypeName(self._xlr.request.task_type.name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if self.hasProperty(name):
            return self.getProperty(name)
        prop = bean_property(name)
        if prop is not None and self.hasProperty(prop):
            value = self.getProperty(prop)
            return lambda: value
        return unsupported("PythonScript", name)


class ApiTask(_Partial):
    """The running task as ``taskApi.getTask`` returns it: ``id``, ``title``, ``status``, ``statusLine``,
    ``taskType`` and ``pythonScript`` (its property values)."""

    _OWNER = "Task"

    def __init__(self, xlr: LocalXlr) -> None:
        self._xlr = xlr
        self.id = xlr.request.task_id
        self.title = xlr.request.title
        self.status = IN_PROGRESS
        self.pythonScript = TaskScript(xlr)
        self.taskType = TypeName(xlr.request.task_type.name)

    @property
    def statusLine(self) -> str | None:
        """The status line the run has set so far."""
        task = self._xlr.namespace.get("task")
        return task.status_line if isinstance(task, ScriptTask) else None

    def getId(self) -> str:
        """The task's id."""
        return self.id

    def getTitle(self) -> str:
        """The task's title."""
        return self.title

    def getStatus(self) -> str:
        """``IN_PROGRESS``."""
        return self.status

    def getStatusLine(self) -> str | None:
        """The status line the run has set so far."""
        return self.statusLine

    def getTaskType(self) -> TypeName:
        """The task's type."""
        return self.taskType

    def getType(self) -> TypeName:
        """The task's type."""
        return self.taskType

    def getPythonScript(self) -> TaskScript:
        """The task's property values."""
        return self.pythonScript

    def getReleaseId(self) -> str:
        """The current release's id."""
        return self._xlr.release_id

    def getRelease(self) -> Release:
        """The current release."""
        return self._xlr.current_release()

    def __repr__(self) -> str:
        return f"<task {self.id} {self.taskType} {self.title!r}>"


def _field(bean: Any, name: str) -> Any:
    if isinstance(bean, _Bean):
        return bean._values.get(name)
    if isinstance(bean, dict):
        return bean.get(name)
    return getattr(bean, name, None)


_current: contextvars.ContextVar[LocalXlr | None] = contextvars.ContextVar("xlr_api", default=None)


@contextlib.contextmanager
def bound(xlr: LocalXlr) -> Iterator[None]:
    """Make ``xlr`` what ``XLReleaseServiceHolder`` hands out while the block runs (one script run)."""
    token = _current.set(xlr)
    try:
        yield
    finally:
        _current.reset(token)


def current() -> LocalXlr:
    """The running script's API, for ``XLReleaseServiceHolder``."""
    xlr = _current.get()
    if xlr is None:
        raise ScriptError("XLReleaseServiceHolder is only available while a script runs")
    return xlr
