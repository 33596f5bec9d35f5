"""``xlr nodes``: a project's nodes, optionally narrowed by a node filter (as ``rd nodes list -p P -F F``).

A project's nodes are the server node plus the resource-model files in ``<home>/projects/<project>/resources/``
(``*.xml``, ``*.yaml``, ``*.yml``; :mod:`xlr_runtime.rundeck.nodes.resources`). The filter is the one jobs use
(:mod:`xlr_runtime.rundeck.nodes.nodefilter`), and the nodes are listed in dispatch order (by name).
"""

from __future__ import annotations

import click

from xlr_runtime.cli.jobs import project_option
from xlr_runtime.cli.options import CliContext, echo_json, json_option, runtime_options
from xlr_runtime.rundeck.nodes.nodefilter import combine_filters, order_nodes, select_nodes
from xlr_runtime.rundeck.nodes.properties import ProjectProperties
from xlr_runtime.rundeck.nodes.resources import project_nodes, project_resources_dir
from xlr_runtime.rundeck.nodes.ssh.providers import executor_name, node_summary


@click.command(name="nodes")
@project_option
@click.option("-F", "--filter", "node_filter", help="Only the nodes matching this node filter (as jobs use).")
@json_option
@runtime_options(read_only=True)
def nodes_command(ctx: CliContext, project: str, node_filter: str | None, as_json: bool) -> None:
    """List a project's nodes: the server node and those of the project's resource-model files.

    Resource-model files (Rundeck resource XML or YAML) go in HOME/projects/PROJECT/resources/.

    Example: xlr nodes -p ops -F 'tags: web !os-family: windows'
    """
    nodes = list(project_nodes(ctx.home.root, project).values())
    properties = ProjectProperties.load(ctx.home.root, project)
    if node_filter is not None:
        nodes = select_nodes(nodes, combine_filters(node_filter, None))
    nodes = order_nodes(nodes)
    if as_json:
        echo_json([node_summary(node, properties) for node in nodes])
        return
    for node in nodes:
        tags = f"  [{', '.join(node.tags)}]" if node.tags else ""
        executor = executor_name(node, properties)
        click.echo(f"{node.name}  {node.hostname or '-'}  {executor}{tags}  ({node.source or 'server node'})")
    if not nodes:
        folder = project_resources_dir(ctx.home.root, project)
        click.echo(f"No node matches the filter (resource-model files: {folder})", err=True)
