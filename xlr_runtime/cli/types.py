"""``xlr types``, ``xlr types show TYPE`` and ``xlr check PATH...``: see and lint the loaded type system."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from xlr_runtime.cli.options import CliContext, echo_json, json_option, runtime_options
from xlr_runtime.home import default_home
from xlr_runtime.scripting.masking import MASK
from xlr_runtime.typesystem.check import check_plugins
from xlr_runtime.typesystem.model import INPUT, OUTPUT, SCRIPT, PropertyDef, TaskType
from xlr_runtime.typesystem.registry import TypeRegistry, load_registry
from xlr_runtime.typesystem.sources import ScriptSource

_FIXED_CATEGORIES = (INPUT, OUTPUT, SCRIPT)


def _registry(ctx: CliContext) -> TypeRegistry:
    return load_registry(plugin_paths=ctx.plugin_paths, home=ctx.home)


@click.group(name="types", invoke_without_command=True)
@runtime_options(read_only=True, home_optional=True)
@json_option
@click.pass_context
def types_command(click_ctx: click.Context, ctx: CliContext, as_json: bool) -> None:
    """List every loaded type with its plugin and parent (virtual types are marked).

    Example: xlr types --plugins ./xlr-gitlab-plugin
    """
    if click_ctx.invoked_subcommand is not None:
        click_ctx.obj = ctx  # `xlr types --plugins P show T` uses the group's options
        return
    rows = [type_row(t) for t in _registry(ctx).types()]
    if as_json:
        echo_json(rows)
        return
    name_width = max((len(r["name"]) for r in rows), default=4)
    plugin_width = max((len(r["plugin"]) for r in rows), default=6)
    click.echo(f"{'TYPE':<{name_width}}  {'PLUGIN':<{plugin_width}}  EXTENDS")
    for row in rows:
        virtual = "  (virtual)" if row["virtual"] else ""
        click.echo(f"{row['name']:<{name_width}}  {row['plugin']:<{plugin_width}}  {row['parent'] or '-'}{virtual}")


@types_command.command(name="show")
@click.argument("type_name", metavar="TYPE")
@runtime_options(read_only=True, home_optional=True)
@json_option
@click.pass_obj
def show_command(group_ctx: CliContext | None, ctx: CliContext, type_name: str, as_json: bool) -> None:
    """Show one type's properties by category (kind, default, required, hidden, password) and which script file
    runs: the first plugin on the script classpath holding the script (ext/, your plugins, then the bundled ones).

    Example: xlr types show jenkins.Build
    """
    registry = _registry(_merged(group_ctx, ctx))
    task_type = registry.get(type_name)
    scripts = script_files(registry, task_type)
    if as_json:
        echo_json(type_detail(task_type, scripts))
        return
    for line in _describe(task_type, scripts):
        click.echo(line)


@click.command(name="check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--no-bundled", is_flag=True, help="Do not load the bundled plugins (to check a copy of one).")
@runtime_options(read_only=True, home_optional=True)
@json_option
def check_command(ctx: CliContext, paths: tuple[Path, ...], no_bundled: bool, as_json: bool) -> None:
    """Lint plugins (folders, .jar/.zip or synthetic.xml files): list each script, and each problem.

    Each Python file of the plugins (not under tests/), and each plugin module their scripts import from
    another plugin, gets a line saying whether it compiles (as Python 3, or after translation from Python 2)
    and what in it would fail at run time; each problem (definition mistakes, a missing script, a script or
    module that does not compile, an unsupported import, a plugin-module import that does not resolve, a
    name nothing defines, a task.schedule target that does not exist) is printed as path:line: message.
    Exits 1 when any problem is found.

    Example: xlr check ./xlr-gitlab-plugin
    """
    report = check_plugins(
        paths, plugin_paths=ctx.plugin_paths, home=ctx.home, settings=ctx.settings, include_bundled=not no_bundled
    )
    if as_json:
        echo_json(report.to_json())
    else:
        for line in report.listing():
            click.echo(line)
    if not report.ok:
        raise SystemExit(1)


def _merged(group_ctx: CliContext | None, ctx: CliContext) -> CliContext:
    """The subcommand's options, falling back to those given before ``show`` on the group."""
    if group_ctx is None:
        return ctx
    home = ctx.home if ctx.home.root != default_home() else group_ctx.home
    paths = ctx.option_plugin_paths or group_ctx.option_plugin_paths
    return CliContext(home=home, option_plugin_paths=paths, read_only=True)


def type_row(task_type: TaskType) -> dict[str, Any]:
    return {
        "name": task_type.name,
        "plugin": task_type.plugin,
        "parent": task_type.parent,
        "virtual": task_type.virtual,
        "label": task_type.label,
        "source": str(task_type.source),
    }


def _categories(task_type: TaskType) -> list[tuple[str | None, list[PropertyDef]]]:
    """Properties grouped: input, output, script, free-text categories in order of appearance, then none."""
    order: list[str | None] = list(_FIXED_CATEGORIES)
    for prop in task_type.properties.values():
        if prop.category not in order and prop.category is not None:
            order.append(prop.category)
    order.append(None)
    groups = [(c, task_type.by_category(c)) for c in order]
    return [(c, props) for c, props in groups if props]


def _shown_default(prop: PropertyDef) -> Any:
    if prop.default is None:
        return None
    return MASK if prop.password else prop.default


def _property_json(prop: PropertyDef) -> dict[str, Any]:
    return {
        "name": prop.name,
        "kind": prop.kind.value,
        "label": prop.label,
        "description": prop.description,
        "default": _shown_default(prop),
        "required": prop.required,
        "hidden": prop.hidden,
        "password": prop.password,
        "size": prop.size,
        "enum_values": list(prop.enum_values),
        "referenced_type": prop.referenced_type,
        "source": str(prop.source) if prop.source else None,
    }


def script_files(registry: TypeRegistry, task_type: TaskType) -> list[ScriptSource] | None:
    """The files a runnable type's first script could be, the one that runs first; ``None`` for other types."""
    if not task_type.is_python_script or task_type.virtual:
        return None
    return registry.script_candidates(task_type, task_type.script_location)


def type_detail(task_type: TaskType, scripts: list[ScriptSource] | None) -> dict[str, Any]:
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
            for category, props in _categories(task_type)
        ],
    )
    return detail


def _describe(task_type: TaskType, scripts: list[ScriptSource] | None) -> list[str]:
    label = f" ({task_type.label})" if task_type.label else ""
    lines = [
        f"{task_type.name}{label}",
        f"  plugin:  {task_type.plugin} ({task_type.source})",
        f"  extends: {' -> '.join(task_type.ancestors) or '-'}",
    ]
    if task_type.virtual:
        lines.append("  virtual: yes (cannot be instantiated)")
    if scripts is not None:
        lines.append(f"  script:  {task_type.script_location}")
        if scripts:  # a missing script is reported by `xlr check`
            lines.append(f"  runs:    {scripts[0].display_path} (plugin {scripts[0].plugin})")
            lines.extend(f"  shadows: {s.display_path} (plugin {s.plugin})" for s in scripts[1:])
    lines.extend(f"  modified by {source}" for source in task_type.modified_by)
    for category, props in _categories(task_type):
        lines.append("")
        lines.append(f"{category or '(no category)'}:")
        width = max(len(p.name) for p in props)
        lines.extend(f"  {p.name:<{width}}  {_describe_property(p)}" for p in props)
    return lines


def _describe_property(prop: PropertyDef) -> str:
    kind = prop.kind.value
    if prop.referenced_type:
        kind += f" -> {prop.referenced_type}"
    if prop.enum_values:
        kind += f" [{', '.join(prop.enum_values)}]"
    parts = [kind]
    default = _shown_default(prop)
    if default is not None:
        parts.append(f"default={default if isinstance(default, str) else _compact(default)}")
    parts.extend(
        flag for flag, on in (("required", prop.required), ("hidden", prop.hidden), ("password", prop.password)) if on
    )
    return "  ".join(parts)


def _compact(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(value)
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    return str(value)
