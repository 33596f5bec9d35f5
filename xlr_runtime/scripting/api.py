"""The objects a script sees besides its properties: ``task``, CI objects and Jython bean sugar.

Real plugins were written against Java objects seen through Jython, so every object here answers in the three
styles they use: ``ci['url']``, ``ci.url`` and ``ci.getUrl()`` (``isFoo()`` for booleans), and
``task.id`` / ``task.getId()``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from xlr_runtime.compat.beans import bean_property
from xlr_runtime.errors import ScriptError
from xlr_runtime.scripting.contract import CiValue, ScheduleRequest
from xlr_runtime.typesystem.model import TaskType

#: The longest interval ``task.schedule()`` accepts: 30 days, in seconds. A polling script waits seconds to
#: minutes; a larger number is a mistake (a timestamp, milliseconds) that would park the task for years.
MAX_INTERVAL = 30 * 24 * 3600.0


def _getter(value: Any) -> Callable[[], Any]:
    return lambda: value


class ConfigurationItem:
    """A CI as a script sees it (``jenkinsServer``, ``configuration``): read it as ``ci['url']``, ``ci.url`` or
    ``ci.getUrl()``. A property the CI does not have reads as ``None`` through ``ci['name']`` and ``ci.get()``.

    Build one with ``ConfigurationItem(CiValue(name, type, values, password_fields))`` or
    :meth:`from_values`.
    """

    def __init__(self, value: CiValue) -> None:
        object.__setattr__(self, "_ci", value)

    @classmethod
    def from_values(
        cls, name: str, type_name: str, values: dict[str, Any], *, password_fields: tuple[str, ...] = ()
    ) -> ConfigurationItem:
        """A CI object from plain values (tests and the plugin-author harness)."""
        return cls(CiValue(name, type_name, dict(values), password_fields))

    @property
    def ci_name(self) -> str:
        """The CI's name (its title in XL Release)."""
        return self._ci.name

    @property
    def ci_type(self) -> str:
        """The CI's type, e.g. ``jenkins.Server``."""
        return self._ci.type

    def getType(self) -> str:
        """The CI's type name."""
        return self._ci.type

    def __getitem__(self, key: str) -> Any:
        if key == "title" and key not in self._ci.values:
            return self._ci.name
        return self._ci.values.get(key)

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key``, or ``default`` when the CI has no such property or it is unset."""
        value = self[key]
        return default if value is None else value

    def __contains__(self, key: object) -> bool:
        return key in self._ci.values

    def __iter__(self) -> Iterator[str]:
        return iter(self._ci.values)

    def keys(self) -> list[str]:
        """The CI's property names."""
        return list(self._ci.values)

    def __getattr__(self, name: str) -> Any:
        values = self._ci.values
        if name in values:
            return values[name]
        if name in ("title", "name"):
            return self._ci.name
        prop = bean_property(name)
        if prop is not None and (prop in values or prop in ("title", "name")):
            return _getter(self.__getattr__(prop))
        raise AttributeError(f"CI {self._ci.name!r} ({self._ci.type}) has no property {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"CI {self._ci.name!r} is read-only in scripts")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConfigurationItem) and other._ci == self._ci

    def __hash__(self) -> int:
        return hash((self._ci.name, self._ci.type))

    def __str__(self) -> str:
        return self._ci.name

    def __repr__(self) -> str:
        return f"<{self._ci.type} {self._ci.name!r}>"


class TypeName(str):
    """The value of ``task.getTaskType()``: a string (``jenkins.Build``) with the Java ``Type`` methods."""

    @property
    def prefix(self) -> str:
        """``jenkins`` for ``jenkins.Build``."""
        return self.partition(".")[0]

    @property
    def name(self) -> str:
        """``Build`` for ``jenkins.Build``."""
        return self.partition(".")[2]

    def getPrefix(self) -> str:
        """``jenkins`` for ``jenkins.Build``."""
        return self.prefix

    def getName(self) -> str:
        """``Build`` for ``jenkins.Build``."""
        return self.name


class PythonScript:
    """``task.pythonScript``: the task's properties, read and written by name.

    ``getProperty(name)`` reads the script's current global of that name; ``setProperty(name, value)`` sets
    it and marks it as set, so its value is kept even when the run fails (as XL Release's pre-6.1 plugins do
    with ``setProperty`` plus a repository update before ``sys.exit(1)``).
    """

    def __init__(self, task_type: TaskType, namespace: MutableMapping[str, Any]) -> None:
        self._type = task_type
        self._namespace = namespace
        #: Names set through :meth:`setProperty`, in order.
        self.set_names: list[str] = []

    def getProperty(self, name: str) -> Any:
        """The current value of property ``name``."""
        self._check(name)
        return self._namespace.get(name)

    def setProperty(self, name: str, value: Any) -> None:
        """Set property ``name`` (also the script global of that name)."""
        self._check(name)
        self._namespace[name] = value
        if name not in self.set_names:
            self.set_names.append(name)

    def hasProperty(self, name: str) -> bool:
        """True when the task type defines ``name``."""
        return name in self._type.properties

    def getType(self) -> TypeName:
        """The task's type."""
        return TypeName(self._type.name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._type.properties:
            return self._namespace.get(name)
        prop = bean_property(name)
        if prop is not None and prop in self._type.properties:
            return _getter(self._namespace.get(prop))
        raise AttributeError(f"{self._type.name} has no property {name!r}")

    def _check(self, name: str) -> None:
        if name not in self._type.properties:
            raise ScriptError(f"{self._type.name} has no property {name!r}")


class ScriptTask:
    """The ``task`` global: the running task's identity and the two calls that steer it."""

    def __init__(self, task_id: str, title: str, task_type: TaskType, namespace: MutableMapping[str, Any]) -> None:
        self.id = task_id
        self.title = title
        self.pythonScript = PythonScript(task_type, namespace)
        self._type = task_type
        #: What the script asked for; read by the runner after the script ends.
        self.status_line: str | None = None
        self.schedule_request: ScheduleRequest | None = None

    def schedule(self, path: str, interval: float | int | str | None = None) -> None:
        """Run the script at ``path`` (relative to the plugin root) after this one, ``interval`` seconds later
        (the configured default when ``None``; a number, or text holding one, from 0 to :data:`MAX_INTERVAL`).
        The last call wins. A bad path or interval raises :class:`ScriptError` here, at the script's line."""
        if not isinstance(path, str) or not path.strip():
            raise ScriptError(f"task.schedule() needs a script path, got {path!r}")
        self.schedule_request = ScheduleRequest(path.strip(), _interval(interval))

    def setStatusLine(self, text: Any) -> None:
        """Show ``text`` under the task's title (Markdown, as in XL Release)."""
        self.status_line = None if text is None else str(text)

    def getStatusLine(self) -> str | None:
        """The status line set so far in this run."""
        return self.status_line

    def getId(self) -> str:
        """The task's id."""
        return self.id

    def getTitle(self) -> str:
        """The task's title."""
        return self.title

    def getTaskType(self) -> TypeName:
        """The task's type; ``str(task.getTaskType())`` is ``jenkins.Build``."""
        return TypeName(self._type.name)

    def getType(self) -> TypeName:
        """Same as :meth:`getTaskType`."""
        return self.getTaskType()

    def getPythonScript(self) -> PythonScript:
        """``task.pythonScript``."""
        return self.pythonScript

    def __repr__(self) -> str:
        return f"<task {self.id} {self._type.name} {self.title!r}>"


def _interval(value: float | int | str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ScriptError(f"task.schedule() interval must be a number of seconds, got {value!r}") from None
    if not math.isfinite(seconds):
        raise ScriptError(f"task.schedule() interval must be a finite number of seconds, got {value!r}")
    if seconds < 0:
        raise ScriptError(f"task.schedule() interval must not be negative, got {value!r}")
    if seconds > MAX_INTERVAL:
        raise ScriptError(
            f"task.schedule() interval must be at most {MAX_INTERVAL:.0f} seconds (30 days), got {value!r}"
        )
    return seconds
