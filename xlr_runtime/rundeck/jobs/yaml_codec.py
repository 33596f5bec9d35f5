"""Rundeck job YAML (``job-yaml-v12``): a list of canonical job maps, onto the same model as the XML codec.

Key mapping (XML → YAML): ``enforcedvalues`` → ``enforced``, ``values`` is a list, ``logging`` →
``loglimit``/``loglimitAction``/``loglimitStatus``, ``dispatch`` → ``nodefilters.dispatch``, ``scriptargs`` →
``args``, ``scriptinterpreter`` → ``scriptInterpreter`` + ``interpreterArgsQuoted``, ``arg@line`` →
``jobref.args``, ``month@day`` → ``schedule.dayofmonth.day``, notifications → ``onX: {email, urls, …}`` or a list.
The export sorts every map's keys (Rundeck's ``canonicalMap``) in block style, multi-line strings as literals.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from xlr_runtime.errors import JobDefinitionError
from xlr_runtime.rundeck.jobs.model import Job
from xlr_runtime.rundeck.jobs.validation import JobContext
from xlr_runtime.rundeck.jobs.xml_codec import dump_jobs_xml, load_jobs_xml
from xlr_runtime.rundeck.jobs.xml_export import NOT_XML, escape_not_xml
from xlr_runtime.rundeck.jobs.yaml_read import LineMap, job_from_map
from xlr_runtime.rundeck.jobs.yaml_write import job_to_map

__all__ = ["dump_jobs_yaml", "load_jobs_yaml", "not_utf8", "yaml_error"]


def load_jobs_yaml(data: bytes | str, *, path: str | Path, require_future: bool = True) -> list[Job]:
    """Parse a YAML list of jobs; raises :class:`JobDefinitionError` (``path:line: job "name": …``).
    ``require_future=False`` accepts a schedule that will not fire again (as for XML, for re-reading).

    A file with one bad job yields nothing.
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise JobDefinitionError(not_utf8(data, exc), path=path, line=line) from None
    else:
        text = data
    loader = _LineLoader(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            _check_aliases(root, path)
        content = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        message, line = yaml_error(exc, text)
        raise JobDefinitionError(f"invalid YAML: {message}", path=path, line=line) from None
    finally:
        loader.dispose()
    if not isinstance(content, list) or not isinstance(root, yaml.SequenceNode):
        line = root.start_mark.line + 1 if root is not None else None
        raise JobDefinitionError("a job YAML file must be a list of jobs", path=path, line=line)
    if not content:
        raise JobDefinitionError("the file holds no job", path=path, line=1)
    jobs = []
    for index, (item, node) in enumerate(zip(content, root.value, strict=True), start=1):
        ctx = JobContext(path, node.start_mark.line + 1, index, require_future=require_future)
        if not isinstance(item, dict):
            raise ctx.error(f"job #{index} must be a map, not {type(item).__name__}", named=False)
        bad = _first_unstorable_text(item)
        if bad is not None:
            field, character, line = bad
            name = item.get("name")
            ctx.name = None if name is None else escape_not_xml(str(name))
            raise ctx.error(
                f"{field} holds the control character U+{ord(character):04X}, which a job definition cannot hold "
                "(its XML form has no such character): remove it",
                line=line,
                named=ctx.name is not None,
            )
        job = job_from_map(item, ctx)
        ctx.build(lambda job=job: _reads_back(job), line=ctx.line)
        jobs.append(job)
    return jobs


def _first_unstorable_text(value: Any, field: str = "", line: int | None = None) -> tuple[str, str, int | None] | None:
    """``(field, character, line)`` of the first key or value holding a character XML cannot carry, else ``None``;
    ``field`` is a path such as ``sequence.commands[0].exec``."""
    if isinstance(value, LineMap) and value.line is not None:
        line = value.line
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{field}.{key}" if field else str(key)
            found = NOT_XML.search(str(key))
            if found is not None:
                return f"the key {str(key)!r}", found.group(), line
            inner = _first_unstorable_text(item, name, line)
            if inner is not None:
                return inner
    elif isinstance(value, list):
        for index, item in enumerate(value):
            inner = _first_unstorable_text(item, f"{field}[{index}]", line)
            if inner is not None:
                return inner
    elif isinstance(value, str):
        found = NOT_XML.search(value)
        if found is not None:
            return f'field "{field}"', found.group(), line
    return None


def _reads_back(job: Job) -> None:
    """Raise ``ValueError`` unless the job's stored form (its canonical XML) reads back: the last guard that
    nothing is stored that the store, the schedule loop or an export could not read again."""
    try:
        load_jobs_xml(dump_jobs_xml([job]), path="the stored form", require_future=False)
    except JobDefinitionError as exc:
        raise ValueError(f"cannot be stored: its XML form does not read back ({exc.detail})") from None


#: The most aliases of lists and maps one file may hold (SnakeYAML's ``maxAliasesForCollections``, which
#: Rundeck's YAML parser applies): each alias may multiply what a reader walks ("billion laughs").
MAX_COLLECTION_ALIASES = 50
#: The most nodes aliases may add to a file once expanded: 45 aliases nine deep already stand for 600,000 lists.
MAX_ALIAS_EXPANSION = 10_000


def _check_aliases(root: yaml.Node, path: str | Path) -> None:
    """Before anything is constructed, refuse more than :data:`MAX_COLLECTION_ALIASES` aliases of lists and maps,
    aliases that would add more than :data:`MAX_ALIAS_EXPANSION` nodes, and a list or map that holds an alias of
    itself. The composed nodes share what aliases name, so this walk visits each node once however many times it
    would be expanded, and counts what expanding would cost."""
    sizes: dict[int, int] = {}  # a list or map -> how many nodes it stands for, expanded
    open_nodes: set[int] = set()  # the lists and maps the walk is inside
    scalars: set[int] = set()
    aliases = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        children = _children(node)
        if leaving:
            open_nodes.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes.get(id(child), 1) for child in children)
            continue
        if not isinstance(node, yaml.SequenceNode | yaml.MappingNode):
            scalars.add(id(node))
            continue
        line = node.start_mark.line + 1
        if id(node) in open_nodes:
            raise JobDefinitionError(
                "invalid YAML: recursive alias: the list or map here holds an alias of itself", path=path, line=line
            )
        if id(node) in sizes:
            aliases += 1
            if aliases > MAX_COLLECTION_ALIASES:
                raise JobDefinitionError(
                    f"invalid YAML: more than {MAX_COLLECTION_ALIASES} aliases of lists or maps (the last one names "
                    "the list or map here); Rundeck's YAML parser refuses them too",
                    path=path,
                    line=line,
                )
            continue
        sizes[id(node)] = 0  # seen; its size is known when the walk leaves it
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(children))
    added = sizes.get(id(root), 1) - len(sizes) - len(scalars)
    if added > MAX_ALIAS_EXPANSION:
        raise JobDefinitionError(
            f"invalid YAML: its aliases expand to {added} more nodes than the file holds (at most "
            f"{MAX_ALIAS_EXPANSION}): write the values out, or use fewer aliases",
            path=path,
            line=root.start_mark.line + 1,
        )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    return []


def not_utf8(data: bytes, exc: UnicodeDecodeError) -> str:
    """One line saying where a file stops being UTF-8 (Rundeck reads job and resource files as UTF-8)."""
    return (
        f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} cannot be decoded (save the file as UTF-8)"
    )


def yaml_error(exc: yaml.YAMLError, text: str) -> tuple[str, int | None]:
    """A YAML error as one line and its 1-based line: the problem, after its context when it has one (``while
    scanning a quoted scalar``), never PyYAML's ``in "<unicode string>", line …`` echo of where it read."""
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow: a position, no mark
        character = f" (#x{exc.character:04x})" if isinstance(exc.character, int) else ""
        return f"{exc.reason}{character}", text[: exc.position].count("\n") + 1
    problem = getattr(exc, "problem", None) or str(exc).partition("\n")[0] or type(exc).__name__
    context = getattr(exc, "context", None)
    problem_mark, context_mark = getattr(exc, "problem_mark", None), getattr(exc, "context_mark", None)
    mark = problem_mark or context_mark
    if context and context_mark is not None and problem_mark is not None and context_mark.line != problem_mark.line:
        context = f"{context} at line {context_mark.line + 1}"
    return (f"{context}, {problem}" if context else problem), (mark.line + 1 if mark is not None else None)


#: libyaml's loader and dumper when PyYAML has them (about ten times faster), else the pure-Python ones.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _LineLoader(_Loader):  # type: ignore[misc,valid-type]
    """Safe loading whose mappings remember their line (:class:`LineMap`), to locate errors inside a job."""


def _construct_line_map(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Iterator[LineMap]:
    mapping = LineMap()
    mapping.line = node.start_mark.line + 1
    yield mapping
    mapping.update(loader.construct_mapping(node))


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_line_map)


class _Dumper(_BaseDumper):  # type: ignore[misc,valid-type]
    """Block style; multi-line strings as ``|`` literals (Rundeck's ``ForceMultilineLiteralOptions``)."""


def _represent_str(dumper: yaml.BaseDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


def _canonical(value: Any) -> Any:
    """Sort every map's keys, recursively (also inside lists, so the output is deterministic)."""
    if isinstance(value, dict):
        return {key: _canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    return value


def dump_jobs_yaml(jobs: Iterable[Job]) -> str:
    """Write jobs as Rundeck's canonical YAML list (deterministic: same jobs, same bytes).

    Raises :class:`JobDefinitionError` for a job whose YAML would not read back as the same job: elements Rundeck
    does not know are kept under their own names, and one named like a YAML key of Rundeck's (``<options>``
    directly under ``<job>``) would be read as that key. XML keeps such a job as it is."""
    data = []
    for job in jobs:
        mapped = _canonical(job_to_map(job))
        _reads_back_as_yaml(job, mapped)
        data.append(mapped)
    return _dump(data)


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, default_flow_style=False, sort_keys=False, allow_unicode=True, width=4096)


def _reads_back_as_yaml(job: Job, mapped: dict[str, Any]) -> None:
    try:
        back = load_jobs_yaml(_dump([mapped]), path="the YAML export", require_future=False)
    except JobDefinitionError as exc:
        detail = exc.detail.removeprefix(f'job "{exc.job}": ') if exc.job else exc.detail
        reason = f"it would not read back ({detail})"
    else:
        if back == [dataclasses.replace(job, project=None)]:
            return
        changed = [f.name for f in dataclasses.fields(Job) if getattr(back[0], f.name) != getattr(job, f.name)]
        reason = f"it would read back with a different {', '.join(changed)}"
    unknown = sorted({raw.tag for raw in job.extra} | {raw.tag for step in job.sequence.steps for raw in step.extra})
    known = f" (its elements Rundeck does not know: <{'>, <'.join(unknown)}>)" if unknown else ""
    raise JobDefinitionError(
        f"cannot be exported as YAML: {reason}{known}",
        path=None,
        job=job.full_name,
        hint="Export it as XML (--format xml), which keeps it as it is.",
    )
