"""Secure option defaults read per node: a ``storagePath`` that refers to ``${node.*}``.

Rundeck's ``loadSecureOptionStorageDefaults`` leaves such a path unread when the execution starts (the option is
*node deferred*), and ``executeNodeStep`` expands it with the node's context and reads key storage as a node
step runs there. :func:`read_node_defaults` does that read for one node: the path's ``${node.*}`` (name,
hostname, username, any attribute), ``${option.*}`` (non-secure values) and ``${job.*}`` references are expanded
with :func:`~xlr_runtime.rundeck.run.context.expand`, and each path is read with the rules of the start
(:func:`~xlr_runtime.rundeck.run.options.read_stored_default`): a required option that cannot be read fails the
node's steps, another one takes its ``value`` default (if any) with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from xlr_runtime.errors import OptionValueError
from xlr_runtime.rundeck.nodes.resources import Node
from xlr_runtime.rundeck.run.context import expand
from xlr_runtime.rundeck.run.options import (
    OptionLike,
    PasswordReader,
    ResolvedOptions,
    read_stored_default,
    storage_path_context,
)


@dataclass(frozen=True)
class NodeDefaults:
    """The node-deferred secure option values of one node: ``values`` by option name (read from key storage, or
    the option's ``value`` default when it could not be read), ``warnings`` for the execution's log, and the
    ``failure`` of a required option that could not be read (every node step there fails with it)."""

    values: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    failure: OptionValueError | None = None


def read_node_defaults(
    options: Sequence[OptionLike],
    resolved: ResolvedOptions,
    *,
    job: Mapping[str, str],
    node: Node,
    read_password: PasswordReader,
) -> NodeDefaults:
    """Read, for ``node``, the defaults of the job's ``options`` that ``resolved`` defers to each node; ``job`` is
    the execution's ``job.*`` context. Never raises for a key that cannot be read: see :class:`NodeDefaults`."""
    plain = {name: value for name, value in resolved.values.items() if name not in resolved.secure}
    context = storage_path_context(job, plain)
    context.merge("node", node.context())
    values: dict[str, str] = {}
    warnings: list[str] = []
    for option in (o for o in options if o.name in resolved.deferred):
        path = expand(resolved.deferred[option.name], context, blank_missing=False).strip()
        try:
            value, warning = read_stored_default(option, path, read_password, node=node.name)
        except OptionValueError as exc:
            return NodeDefaults(values=values, warnings=tuple(warnings), failure=exc)
        if warning is not None:
            warnings.append(warning)
            value = option.value or None
        if value is not None:
            values[option.name] = value
    return NodeDefaults(values=values, warnings=tuple(warnings))
