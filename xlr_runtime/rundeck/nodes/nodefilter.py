"""Rundeck's node filters: parsing (``NodeSet.parseFilter``), matching, include/exclude, and dispatch order.

Grammar: tokens as :func:`~xlr_runtime.rundeck.jobs.quoting.tokenize` splits them; ``key:`` / ``key: v`` / ``key:v``
set a key, a bare token means ``name``, ``!key:`` makes an exclude clause, and a repeated key joins its values
with ``,``. ``hostname``, ``name``, ``tags``, ``os-name``, ``os-family``, ``os-arch`` and ``os-version`` read
node fields; any other key reads the attribute of that name. A value matches when the trimmed selector fully
matches it as a regex (``/re/`` forces regex), equals it, or one of its ``,`` items equals it. Tags: ``,`` is
OR and ``+`` is AND, each term matched exactly or by regex against any one tag. All keys are ANDed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from xlr_runtime.errors import NodeFilterError
from xlr_runtime.rundeck.jobs.quoting import tokenize
from xlr_runtime.rundeck.nodes.resources import Node

#: Filter keys that read a node field instead of an attribute of the same name.
FIELD_ATTRIBUTES = {
    "name": "nodename",
    "hostname": "hostname",
    "os-name": "osName",
    "os-family": "osFamily",
    "os-arch": "osArch",
    "os-version": "osVersion",
}
DEFAULT_KEY = "name"
RANK_ORDERS = ("ascending", "descending")


@dataclass(frozen=True)
class NodeFilter:
    """A parsed filter: the include clauses and the exclude clauses, each ``key -> selector``."""

    include: Mapping[str, str] = field(default_factory=dict)
    exclude: Mapping[str, str] = field(default_factory=dict)

    @property
    def blank(self) -> bool:
        """True when the filter has no clause at all."""
        return not self.include and not self.exclude


def parse_filter(text: str | None) -> NodeFilter:
    """Parse a filter string such as ``tags: www+prod !name: web2 db.*``."""
    include: dict[str, str] = {}
    exclude: dict[str, str] = {}
    key: str | None = None
    for token in tokenize(text or ""):
        value = token
        if key is None and token.endswith(":"):
            key = token[: token.rindex(":")]
            continue
        if key is None and ":" in token:
            key, value = token.split(":", 1)
            if not value:
                continue
        elif key is None:
            key = DEFAULT_KEY
        clauses = include
        if key.startswith("!"):
            key, clauses = key[1:], exclude
        clauses[key] = f"{clauses[key]},{value}" if key in clauses else value
        key = None
    return NodeFilter(include=include, exclude=exclude)


def combine_filters(filter_text: str | None, filter_exclude: str | None) -> NodeFilter:
    """A job's ``<filter>`` plus its ``<filterExclude>``, whose plain clauses are exclusions."""
    parsed = parse_filter(filter_text)
    extra = parse_filter(filter_exclude)
    exclude = dict(parsed.exclude)
    for key, value in {**extra.include, **extra.exclude}.items():
        exclude[key] = f"{exclude[key]},{value}" if key in exclude else value
    return NodeFilter(include=parsed.include, exclude=exclude)


def match_regex_or_equals(selector: str, item: str) -> bool:
    """True when ``item`` fully matches ``selector`` as a regex or equals it (both trimmed of the selector).

    ``/re/`` is a regex only, and a bad one is an error; any other bad regex just falls back to equality.
    """
    if len(selector) >= 2 and selector.startswith("/") and selector.endswith("/"):
        pattern = selector[1:-1].strip()
        try:
            return re.fullmatch(pattern, item) is not None
        except re.error as exc:
            raise NodeFilterError(f"invalid regular expression {pattern!r} in node filter: {exc}") from exc
    trimmed = selector.strip()
    try:
        if re.fullmatch(trimmed, item) is not None:
            return True
    except re.error:
        pass
    return trimmed == item


def matches_value(selector: str | None, value: str | None) -> bool:
    """One selector against one attribute value (absent or blank values never match)."""
    if not value or not value.strip() or not selector or not selector.strip():
        return False
    return match_regex_or_equals(selector, value) or value in selector.split(",")


def matches_tags(selector: str | None, tags: Iterable[str]) -> bool:
    """A tags selector (``a+b,x``) against a node's tags."""
    tag_list = list(tags)
    if not tag_list or not selector or not selector.strip():
        return False
    return any(all(_tag_present(term, tag_list) for term in clause.split("+")) for clause in selector.split(","))


def _tag_present(term: str, tags: list[str]) -> bool:
    return term.strip() in tags or any(match_regex_or_equals(term, tag) for tag in tags)


def _clauses_match(clauses: Mapping[str, str], node: Node) -> bool:
    if not clauses:
        return False
    for key, selector in clauses.items():
        if key == "tags":
            matched = matches_tags(selector, node.tags)
        else:
            matched = matches_value(selector, node.get(FIELD_ATTRIBUTES.get(key, key)))
        if not matched:
            return False
    return True


def accepts(node_filter: NodeFilter, node: Node, *, exclude_precedence: bool = True) -> bool:
    """Whether ``node`` passes the filter (Rundeck's ``NodeSet.shouldExclude``, negated).

    With both include and exclude clauses, excludePrecedence=true drops a node that is not included **or** is
    excluded; false drops it only when it is not included **and** excluded.
    """
    included = _clauses_match(node_filter.include, node)
    excluded = _clauses_match(node_filter.exclude, node)
    if not node_filter.exclude:
        return included
    if not node_filter.include:
        return not excluded
    if exclude_precedence:
        return included and not excluded
    return included or not excluded


def select_nodes(nodes: Iterable[Node], node_filter: NodeFilter, *, exclude_precedence: bool = True) -> list[Node]:
    """The nodes that pass ``node_filter``, in the given order."""
    return [node for node in nodes if accepts(node_filter, node, exclude_precedence=exclude_precedence)]


def order_nodes(
    nodes: Iterable[Node], *, rank_attribute: str | None = None, rank_order: str = "ascending"
) -> list[Node]:
    """Dispatch order: by ``rank_attribute`` (default the node name), nodes lacking it after the others,
    ties by name; ``rank_order`` is ``ascending`` or ``descending``."""
    if rank_order not in RANK_ORDERS:
        raise NodeFilterError(f"rankOrder must be ascending or descending, not {rank_order!r}")
    attribute = FIELD_ATTRIBUTES.get(rank_attribute or "name", rank_attribute or "nodename")
    by_name = sorted(nodes, key=lambda node: node.name)
    ranked = [node for node in by_name if node.get(attribute) is not None]
    ranked.sort(key=lambda node: node.get(attribute) or "", reverse=rank_order == "descending")
    return ranked + [node for node in by_name if node.get(attribute) is None]
