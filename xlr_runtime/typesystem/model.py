"""The typed, read-only model of loaded types: :class:`PropertyDef` and :class:`TaskType`.

Instances are built by the registry after ``extends`` and ``type-modification`` are applied; everything
downstream (task creation, the script context, ``xlr types show``) reads them and never changes them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from types import MappingProxyType
from typing import Any

from xlr_runtime.typesystem.kinds import PropertyKind, unset_value

#: Categories with a meaning to the runtime; any other text is a free category shown in the UI only.
INPUT = "input"
OUTPUT = "output"
SCRIPT = "script"

#: The base type every runnable custom task extends.
PYTHON_SCRIPT = "xlrelease.PythonScript"


@dataclass(frozen=True)
class SourceRef:
    """Where a definition was read: a file (``/x/synthetic.xml`` or ``/x/p.jar!/synthetic.xml``) and line."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class PropertyDef:
    """One ``<property>`` after inheritance: its kind, category, default (already coerced) and flags."""

    name: str
    kind: PropertyKind = PropertyKind.STRING
    category: str | None = None
    label: str | None = None
    description: str | None = None
    default: Any = None
    required: bool = False
    hidden: bool = False
    password: bool = False
    size: str | None = None
    enum_values: tuple[str, ...] = ()
    enum_class: str | None = None
    referenced_type: str | None = None
    source: SourceRef | None = None

    @property
    def initial_value(self) -> Any:
        """The value a new task or CI starts with: the default, else XL Release's value for an unset property
        of this kind (:func:`kinds.unset_value`: ``False``, an empty list or map, or ``None``). A fresh copy."""
        if self.default is None:
            return unset_value(self.kind)
        return copy.deepcopy(self.default) if isinstance(self.default, (list, dict)) else self.default

    @property
    def is_input(self) -> bool:
        """True for ``category="input"``."""
        return self.category == INPUT

    @property
    def is_output(self) -> bool:
        """True for ``category="output"``."""
        return self.category == OUTPUT

    @property
    def is_script(self) -> bool:
        """True for ``category="script"`` (like outputs, but hidden from users)."""
        return self.category == SCRIPT


@dataclass(frozen=True)
class TaskType:
    """A loaded type: its name, ancestry and merged properties (inherited first, own last, in file order)."""

    name: str
    parent: str | None
    ancestors: tuple[str, ...]
    virtual: bool
    properties: Mapping[str, PropertyDef]
    plugin: str
    source: SourceRef
    label: str | None = None
    description: str | None = None
    modified_by: tuple[SourceRef, ...] = field(default=())

    @property
    def prefix(self) -> str:
        """The part before the dot: ``jenkins`` for ``jenkins.Build``."""
        return self.name.partition(".")[0]

    @property
    def simple_name(self) -> str:
        """The part after the dot: ``Build`` for ``jenkins.Build``."""
        return self.name.partition(".")[2]

    def is_a(self, type_name: str) -> bool:
        """True when this type is ``type_name`` or extends it, directly or not."""
        return type_name == self.name or type_name in self.ancestors

    @property
    def is_python_script(self) -> bool:
        """True for types that run scripts (they extend ``xlrelease.PythonScript``)."""
        return self.is_a(PYTHON_SCRIPT)

    @property
    def script_location(self) -> str:
        """The first script of the task: ``scriptLocation``'s default, else ``<prefix>/<Name>.py``."""
        prop = self.properties.get("scriptLocation")
        if prop is not None and prop.default:
            return str(prop.default)
        return f"{self.prefix}/{self.simple_name}.py"

    def by_category(self, category: str | None) -> list[PropertyDef]:
        """The properties of one category (``None``: those without one), in definition order."""
        return [p for p in self.properties.values() if p.category == category]

    @property
    def password_properties(self) -> list[str]:
        """Names of the properties whose values are secrets."""
        return list(self._password_names)

    @cached_property
    def _password_names(self) -> tuple[str, ...]:
        # found once per type object: every script run masks with them, in the worker and in the runtime
        return tuple(p.name for p in self.properties.values() if p.password)

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        """Pickle support (requests travel to worker processes): a read-only ``MappingProxyType`` of properties
        cannot be pickled, so it travels as a dict and is wrapped again on arrival."""
        state = {f.name: getattr(self, f.name) for f in fields(self)}
        state["properties"] = dict(self.properties)
        return (_task_type_from_state, (state,))


def _task_type_from_state(state: dict[str, Any]) -> TaskType:
    return TaskType(**{**state, "properties": MappingProxyType(state["properties"])})
