"""Rundeck job YAML (``job-yaml-v12``): a list of canonical job maps, onto the same model as the XML codec.

Key mapping (XML → YAML): ``enforcedvalues`` → ``enforced``, ``values`` is a list, ``logging`` →
``loglimit``/``loglimitAction``/``loglimitStatus``, ``dispatch`` → ``nodefilters.dispatch``, ``scriptargs`` →
``args``, ``scriptinterpreter`` → ``scriptInterpreter`` + ``interpreterArgsQuoted``, ``arg@line`` →
``jobref.args``, ``month@day`` → ``schedule.dayofmonth.day``, notifications → ``onX: {email, urls, …}`` or a list.
The export sorts every map's keys (Rundeck's ``canonicalMap``) in block style, multi-line strings as literals.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from xlr_runtime.errors import JobDefinitionError
from xlr_runtime.rundeck.model import Job
from xlr_runtime.rundeck.validation import JobContext
from xlr_runtime.rundeck.yaml_read import LineMap, job_from_map
from xlr_runtime.rundeck.yaml_write import job_to_map

__all__ = ["dump_jobs_yaml", "load_jobs_yaml", "not_utf8", "yaml_error"]


def load_jobs_yaml(data: bytes | str, *, path: str | Path) -> list[Job]:
    """Parse a YAML list of jobs; raises :class:`JobDefinitionError` (``path:line: job "name": …``).

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
        ctx = JobContext(path, node.start_mark.line + 1, index)
        if not isinstance(item, dict):
            raise ctx.error(f"job #{index} must be a map, not {type(item).__name__}", named=False)
        jobs.append(job_from_map(item, ctx))
    return jobs


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
    """Write jobs as Rundeck's canonical YAML list (deterministic: same jobs, same bytes)."""
    data = [_canonical(job_to_map(job)) for job in jobs]
    return yaml.dump(data, Dumper=_Dumper, default_flow_style=False, sort_keys=False, allow_unicode=True, width=4096)
