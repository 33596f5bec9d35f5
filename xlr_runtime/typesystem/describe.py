"""A loaded type described as data: the rows of ``xlr types --json`` and ``GET /api/v1/types``, and the detail of
``xlr types show TYPE --json``, ``GET /api/v1/types/TYPE`` and the dashboard's type page.

Password defaults are shown as :data:`~xlr_runtime.mask.MASK`, never as their value.
"""

from __future__ import annotations

from typing import Any

from xlr_runtime.mask import MASK
from xlr_runtime.typesystem.model import INPUT, OUTPUT, SCRIPT, PropertyDef, TaskType
from xlr_runtime.typesystem.registry import TypeRegistry
from xlr_runtime.typesystem.sources import ScriptSource

_FIXED_CATEGORIES = (INPUT, OUTPUT, SCRIPT)


def type_row(task_type: TaskType) -> dict[str, Any]:
    """One type as a listing shows it: name, plugin, parent, whether it is virtual, label and source."""
    return {
        "name": task_type.name,
        "plugin": task_type.plugin,
        "parent": task_type.parent,
        "virtual": task_type.virtual,
        "label": task_type.label,
        "source": str(task_type.source),
    }


def script_files(registry: TypeRegistry, task_type: TaskType) -> list[ScriptSource] | None:
    """The files a runnable type's first script could be, the one that runs first; ``None`` for other types."""
    if not task_type.is_python_script or task_type.virtual:
        return None
    return registry.script_candidates(task_type, task_type.script_location)


def type_detail(task_type: TaskType, scripts: list[ScriptSource] | None) -> dict[str, Any]:
    """One type in full: its row, ancestors, description, the script that runs (``scripts`` from
    :func:`script_files`) and the ones it shadows, its modifications and its properties by category."""
    detail = type_row(task_type)
    detail.update(
        ancestors=list(task_type.ancestors),
        description=task_type.description,
        script=task_type.script_location if task_type.is_python_script else None,
        script_file=scripts[0].display_path if scripts else None,
        script_plugin=scripts[0].plugin if scripts else None,
        shadowed_scripts=[s.display_path for s in scripts[1:]] if scripts else [],
        modified_by=[str(s) for s in task_type.modified_by],
        categories=[
            {"category": category, "properties": [_property_json(p) for p in props]}
            for category, props in categories(task_type)
        ],
    )
    return detail


def categories(task_type: TaskType) -> list[tuple[str | None, list[PropertyDef]]]:
    """Properties grouped: input, output, script, free-text categories in order of appearance, then none."""
    order: list[str | None] = list(_FIXED_CATEGORIES)
    for prop in task_type.properties.values():
        if prop.category not in order and prop.category is not None:
            order.append(prop.category)
    order.append(None)
    groups = [(c, task_type.by_category(c)) for c in order]
    return [(c, props) for c, props in groups if props]


def shown_default(prop: PropertyDef) -> Any:
    """The property's default as it may be shown: :data:`~xlr_runtime.mask.MASK` for a password."""
    if prop.default is None:
        return None
    return MASK if prop.password else prop.default


def _property_json(prop: PropertyDef) -> dict[str, Any]:
    return {
        "name": prop.name,
        "kind": prop.kind.value,
        "label": prop.label,
        "description": prop.description,
        "default": shown_default(prop),
        "required": prop.required,
        "hidden": prop.hidden,
        "password": prop.password,
        "size": prop.size,
        "enum_values": list(prop.enum_values),
        "referenced_type": prop.referenced_type,
        "source": str(prop.source) if prop.source else None,
    }
