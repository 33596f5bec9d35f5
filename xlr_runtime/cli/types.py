"""``xlr types``, ``xlr types show TYPE`` and ``xlr check PATH...``: see and lint the loaded type system."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from xlr_runtime.cli.options import CliContext, echo_json, json_option, runtime_options
from xlr_runtime.home import default_home
from xlr_runtime.typesystem.check import check_plugins
from xlr_runtime.typesystem.describe import categories, script_files, shown_default, type_detail, type_row
from xlr_runtime.typesystem.model import PropertyDef, TaskType
from xlr_runtime.typesystem.registry import TypeRegistry, load_registry
from xlr_runtime.typesystem.sources import ScriptSource


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
    for category, props in categories(task_type):
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
    default = shown_default(prop)
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
