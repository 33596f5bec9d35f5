"""Build task types and script-run requests without a plugin: for tests, benchmarks and the plugin-author harness.

request = script_request(
    "print(greeting)\\ncount = 3",
    properties=[prop("greeting"), prop("count", "integer", "output")],
    values={"greeting": "hi"},
)
result = WorkerPool(1).run_sync(request)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from xlr_runtime.scripting.contract import CiValue, ScriptRunRequest
from xlr_runtime.typesystem.kinds import PropertyKind
from xlr_runtime.typesystem.model import INPUT, PYTHON_SCRIPT, PropertyDef, SourceRef, TaskType


def prop(
    name: str,
    kind: str | PropertyKind = PropertyKind.STRING,
    category: str | None = INPUT,
    *,
    password: bool = False,
    enum_values: Iterable[str] = (),
    referenced_type: str | None = None,
) -> PropertyDef:
    """One property definition: ``prop("count", "integer", "output")``."""
    return PropertyDef(
        name=name,
        kind=PropertyKind(kind),
        category=category,
        password=password,
        enum_values=tuple(enum_values),
        referenced_type=referenced_type,
    )


def task_type(
    name: str = "test.Script", properties: Iterable[PropertyDef] = (), *, source: str = "/plugin/synthetic.xml"
) -> TaskType:
    """A concrete task type extending ``xlrelease.PythonScript`` with ``properties``."""
    return TaskType(
        name=name,
        parent=PYTHON_SCRIPT,
        ancestors=(PYTHON_SCRIPT,),
        virtual=False,
        properties={p.name: p for p in properties},
        plugin=name.partition(".")[0],
        source=SourceRef(source, 1),
    )


def script_request(
    source: str,
    *,
    properties: Iterable[PropertyDef] = (),
    values: Mapping[str, Any] | None = None,
    cis: Mapping[str, CiValue | list[CiValue]] | None = None,
    variables: Mapping[str, dict[str, Any]] | None = None,
    type_name: str = "test.Script",
    script_path: str = "test/Script.py",
    script_file: str | None = None,
    run_id: int = 1,
    task_id: str = "task-1",
    title: str = "Test task",
    timeout: float = 3600.0,
    translate: str = "auto",
    module_path: tuple[tuple[str, str], ...] = (),
) -> ScriptRunRequest:
    """A request running ``source`` as ``script_path`` (compiled as ``script_file``, by default
    ``/plugin/<script_path>``) of a task of type ``type_name``."""
    definition = task_type(type_name, properties)
    return ScriptRunRequest(
        run_id=run_id,
        task_id=task_id,
        task_type=definition,
        title=title,
        script_path=script_path,
        script_file=script_file or f"/plugin/{script_path}",
        source=source,
        properties=dict(values or {}),
        cis=dict(cis or {}),
        variables=dict(variables or {}),
        timeout=timeout,
        translate=translate,
        module_path=module_path,
    )
