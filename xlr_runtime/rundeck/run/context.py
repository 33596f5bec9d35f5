"""The data context of an execution and Rundeck's ways of using it (``DataContextUtils``,
``SharedDataContextUtils``, ``ReplaceTokenReader``).

Values live in *views*: the global view, one view per node, and per-step views (``${2:exec.exitCode}``). A
reference made from a node's scope looks in that node's view first, then widens to the global view.

- ``${ctx.key}`` in commands, arguments, plugin configuration and filters; view forms ``${data.k@node1}``,
  ``${data.k*}`` (all nodes, ``,``-joined), ``${data.k*;}`` (another delimiter), ``${2:exec.exitCode}``.
- exec commands: tokenized, each token expanded, tokens that held a reference shell-quoted when needed,
  joined with spaces (``${unquotedoption.x}`` is never quoted).
- ``@ctx.key@`` tokens in inline scripts (``@@`` is a literal ``@``).
- ``RD_CTX_KEY`` environment variables.
- data capture from ``RUNDECK:DATA:key=value`` output lines.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from xlr_runtime.rundeck.jobs.quoting import shell_quote, tokenize

#: ``${[N:]ctx.key[@node|*[delim]]}``.
REFERENCE = re.compile(r"\$\{(?:(\d+):)?([^\s.{}:]+)\.([^\s}]+)\}")
#: Rundeck's default ``key-value-data`` log filter pattern.
DATA_LINE = re.compile(r"^RUNDECK:DATA:\s*([^\s]+?)\s*=\s*(.+)$")
#: The context whose references are never shell-quoted; it reads ``option``.
UNQUOTED_OPTION = "unquotedoption"

View = tuple[int | None, str | None]
GLOBAL: View = (None, None)


class DataContext:
    """Context values by view (step number or ``None``, node name or ``None``), then context name, then key.

    Safe to share between threads (nodes dispatched in parallel, steps of the parallel strategy): writes and
    the readers that iterate hold one lock."""

    def __init__(self, views: Mapping[View, Mapping[str, Mapping[str, str]]] | None = None) -> None:
        self._views: dict[View, dict[str, dict[str, str]]] = {}
        self._lock = threading.RLock()
        for view, contexts in (views or {}).items():
            for ctx, values in contexts.items():
                self.merge(ctx, values, step=view[0], node=view[1])

    def put(self, ctx: str, key: str, value: str, *, node: str | None = None, step: int | None = None) -> None:
        """Set ``ctx.key`` in the view of ``node`` and/or ``step`` (the global view when both are ``None``)."""
        with self._lock:
            self._views.setdefault((step, node), {}).setdefault(ctx, {})[key] = value

    def merge(self, ctx: str, values: Mapping[str, str], *, node: str | None = None, step: int | None = None) -> None:
        """Set every ``ctx.key`` of ``values`` in one view."""
        for key, value in values.items():
            self.put(ctx, key, value, node=node, step=step)

    def lookup(self, ctx: str, key: str, *, node: str | None = None, step: int | None = None) -> str | None:
        """The value of ``ctx.key`` seen from ``node``'s scope (and ``step``'s), widening to wider views."""
        for view in _widening(step, node):
            value = self._views.get(view, {}).get(ctx, {}).get(key)
            if value is not None:
                return value
        return None

    def collect(self, ctx: str, key: str, *, step: int | None = None) -> list[str]:
        """``ctx.key`` from every node view (for ``${data.k*}``), in the order the nodes first stored data."""
        with self._lock:
            return [
                contexts[ctx][key]
                for (view_step, view_node), contexts in self._views.items()
                if view_node is not None and view_step == step and key in contexts.get(ctx, {})
            ]

    def flatten(self, *, node: str | None = None) -> dict[str, dict[str, str]]:
        """Every context as seen from ``node``'s scope: global values overridden by the node's own."""
        result: dict[str, dict[str, str]] = {}
        with self._lock:
            for view in reversed(_widening(None, node)):
                for ctx, values in self._views.get(view, {}).items():
                    result.setdefault(ctx, {}).update(values)
        return result

    def to_dict(self) -> list[dict[str, object]]:
        """A JSON-ready form (for the store); :meth:`from_dict` reads it back."""
        with self._lock:
            return [
                {"step": step, "node": node, "data": {ctx: dict(values) for ctx, values in data.items()}}
                for (step, node), data in self._views.items()
            ]

    @classmethod
    def from_dict(cls, rows: list[dict[str, object]]) -> DataContext:
        """The context saved by :meth:`to_dict`."""
        context = cls()
        for row in rows:
            step, node, data = row["step"], row["node"], row["data"]
            assert isinstance(data, dict)
            for ctx, values in data.items():
                context.merge(
                    ctx,
                    values,
                    step=step if isinstance(step, int) else None,
                    node=node if isinstance(node, str) else None,
                )
        return context


def _widening(step: int | None, node: str | None) -> list[View]:
    views: list[View] = []
    if step is not None:
        views += [(step, node)] if node is not None else []
        views.append((step, None))
    else:
        views += [(None, node)] if node is not None else []
        views.append(GLOBAL)
    return views


@dataclass(frozen=True)
class Reference:
    """One parsed ``${…}`` reference."""

    ctx: str
    key: str
    step: int | None = None
    node: str | None = None
    all_nodes: bool = False
    delimiter: str = ","

    @classmethod
    def parse(cls, match: re.Match[str]) -> Reference:
        """Build a reference from a :data:`REFERENCE` match."""
        step, ctx, key = match.group(1), match.group(2), match.group(3)
        node: str | None = None
        all_nodes, delimiter = False, ","
        if "@" in key:
            key, node = key.rsplit("@", 1)
        elif "*" in key:
            key, delimiter = key.split("*", 1)
            all_nodes, delimiter = True, delimiter or ","
        return cls(
            ctx=ctx, key=key, step=int(step) if step else None, node=node, all_nodes=all_nodes, delimiter=delimiter
        )

    def resolve(self, context: DataContext, *, node: str | None = None) -> str | None:
        """The referenced value seen from ``node``, or ``None`` when there is none."""
        ctx = "option" if self.ctx == UNQUOTED_OPTION else self.ctx
        if self.all_nodes:
            values = context.collect(ctx, self.key, step=self.step)
            return self.delimiter.join(values) if values else None
        return context.lookup(ctx, self.key, node=self.node or node, step=self.step)


def references(text: str) -> Iterator[Reference]:
    """Every ``${…}`` reference in ``text``."""
    return (Reference.parse(match) for match in REFERENCE.finditer(text))


def expand(
    text: str,
    context: DataContext,
    *,
    node: str | None = None,
    blank_missing: bool = True,
    convert: Callable[[str], str] | None = None,
) -> str:
    """Replace every ``${…}`` in ``text``; a missing one becomes blank (or stays as written when
    ``blank_missing`` is false). ``convert`` is applied to each found value."""

    def replace(match: re.Match[str]) -> str:
        value = Reference.parse(match).resolve(context, node=node)
        if value is None:
            return "" if blank_missing else match.group(0)
        return convert(value) if convert else value

    return REFERENCE.sub(replace, text)


def expand_tokens(tokens: list[str], context: DataContext, *, node: str | None = None) -> list[str]:
    """Expand already-split command tokens; a token that held a reference (other than
    ``${unquotedoption.x}``) is shell-quoted when its expanded value needs it."""
    result = []
    for token in tokens:
        expanded = expand(token, context, node=node)
        quoted = any(ref.ctx != UNQUOTED_OPTION for ref in references(token))
        result.append(shell_quote(expanded) if quoted else expanded)
    return result


def expand_command(command: str, context: DataContext, *, node: str | None = None) -> str:
    """An exec step's command line as Rundeck hands it to ``/bin/sh -c``."""
    return " ".join(expand_tokens(tokenize(command), context, node=node))


def script_command(
    script_path: str,
    args: str | None,
    context: DataContext,
    *,
    node: str | None = None,
    interpreter: str | None = None,
    args_quoted: bool = False,
) -> str:
    """The shell command that runs a script file: ``file args``, ``interp file args``, or with
    ``args_quoted`` ``interp 'file args'``."""
    parts = [shell_quote(script_path), *expand_tokens(tokenize(args or ""), context, node=node)]
    command = " ".join(parts)
    if not interpreter:
        return command
    if args_quoted:
        return f"{interpreter} '" + command.replace("'", "'\"'\"'") + "'"
    return f"{interpreter} {command}"


def replace_script_tokens(script: str, context: DataContext, *, node: str | None = None) -> str:
    """Replace ``@ctx.key@`` tokens in inline script text (``ReplaceTokenReader``).

    A token is an ``@…@`` run without whitespace; a missing key becomes empty; ``@@`` is a literal ``@``.
    Text where a would-be token meets whitespace or the end is left as written.
    """
    flat = context.flatten(node=node)
    out: list[str] = []
    pos, end = 0, len(script)
    while pos < end:
        start = script.find("@", pos)
        if start < 0:
            out.append(script[pos:])
            break
        out.append(script[pos:start])
        close = start + 1
        while close < end and script[close] != "@" and not script[close].isspace():
            close += 1
        if close >= end or script[close] != "@":
            out.append(script[start:close])
            pos = close
            continue
        token = script[start + 1 : close]
        if token:
            ctx, _, key = token.partition(".")
            out.append(flat.get(ctx, {}).get(key, ""))
        else:
            out.append("@")
        pos = close + 1
    return "".join(out)


def env_name(ctx: str, key: str) -> str:
    """``RD_`` + ``ctx.key`` upper-cased with every other character than letters, digits and ``_`` as ``_``."""
    return "RD_" + re.sub(r"[^a-zA-Z0-9_]", "_", f"{ctx}.{key}".upper())


def environment(context: DataContext, *, node: str | None = None) -> dict[str, str]:
    """The ``RD_*`` environment variables of every context value seen from ``node``."""
    return {
        env_name(ctx, key): value for ctx, values in context.flatten(node=node).items() for key, value in values.items()
    }


def capture_data(line: str, pattern: re.Pattern[str] = DATA_LINE) -> tuple[str, str] | None:
    """``(key, value)`` when an output line matches the data-capture pattern (``RUNDECK:DATA:k=v``)."""
    match = pattern.match(line)
    if match is None or len(match.groups()) < 2:
        return None
    return match.group(1), match.group(2)
