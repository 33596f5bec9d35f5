"""The compact form of script run requests between the pool and its workers.

A :class:`ScriptRunRequest` carries its :class:`TaskType` and its script source, which are the same for every run
of a type and make up most of a pickled request (about 30 µs to pickle and 35 µs to unpickle each time). On the
wire they are replaced by content keys: the pool sends a type or a source in full only the first time a worker
sees its key (:class:`Definitions`), and each request travels as a plain tuple (:func:`encode` / :func:`decode`)
pickled with protocol 5. A :class:`ScriptRunResult` travels back as a plain tuple too (:func:`encode_result` /
:func:`decode_result`): pickling the dataclasses of a result (outcome enum, schedule, log lines, failure) costs
a reduce call per object on both sides.
"""

from __future__ import annotations

import hashlib
import pickle
from typing import Any

from xlr_runtime.records import frozen_record
from xlr_runtime.scripting.contract import (
    Failure,
    LogLine,
    RunOutcome,
    ScheduleRequest,
    ScriptRunRequest,
    ScriptRunResult,
)
from xlr_runtime.typesystem.model import TaskType

#: Pickle protocol of every message between the pool and a worker.
PROTOCOL = 5

#: Outcomes by value (a dict lookup; calling the enum class is several times slower).
_OUTCOMES: dict[str, RunOutcome] = {str(outcome): outcome for outcome in RunOutcome}

#: Content keys remembered by the parent per object (types and sources are few and long-lived).
_MEMO_LIMIT = 4096


class Keys:
    """Content keys of task types and sources, computed once per object on the parent's side."""

    def __init__(self) -> None:
        self._types: dict[int, tuple[TaskType, str, bytes]] = {}
        self._sources: dict[str, str] = {}
        self._paths: dict[int, tuple[tuple[tuple[str, str], ...], str]] = {}

    def task_type(self, task_type: TaskType) -> tuple[str, bytes]:
        """The key of ``task_type`` and its pickled form (hashed once per type object)."""
        memo = self._types.get(id(task_type))
        if memo is None or memo[0] is not task_type:
            if len(self._types) >= _MEMO_LIMIT:
                self._types.clear()
            data = pickle.dumps(task_type, PROTOCOL)
            memo = (task_type, "t:" + hashlib.sha1(data).hexdigest(), data)
            self._types[id(task_type)] = memo
        return memo[1], memo[2]

    def module_path(self, path: tuple[tuple[str, str], ...]) -> str:
        """The key of a module path (hashed once per tuple object: an engine sends the same one every run)."""
        memo = self._paths.get(id(path))
        if memo is None or memo[0] is not path:
            if len(self._paths) >= _MEMO_LIMIT:
                self._paths.clear()
            memo = (path, "m:" + hashlib.sha1(repr(path).encode("utf-8", "surrogatepass")).hexdigest())
            self._paths[id(path)] = memo
        return memo[1]

    def source(self, source: str) -> str:
        """The key of a script's source text (hashed once per distinct text)."""
        key = self._sources.get(source)
        if key is None:
            if len(self._sources) >= _MEMO_LIMIT:
                self._sources.clear()
            key = "s:" + hashlib.sha1(source.encode("utf-8", "surrogatepass")).hexdigest()
            self._sources[source] = key
        return key


def encode(request: ScriptRunRequest, keys: Keys, known: set[str], definitions: dict[str, Any]) -> bytes:
    """``request`` as pickled bytes; its type, source and module path go to ``definitions`` unless their keys are
    ``known``
    (the keys are added to ``known``: the caller sends ``definitions`` with the request, or forgets ``known``).

    Raises whatever pickling raises for a value that cannot be sent (the request alone fails).
    """
    type_key, type_data = keys.task_type(request.task_type)
    source_key = keys.source(request.source)
    path_key = keys.module_path(request.module_path) if request.module_path else None  # none: nothing to define
    payload = pickle.dumps(
        (
            request.run_id,
            request.task_id,
            type_key,
            request.title,
            request.script_path,
            request.script_file,
            source_key,
            request.properties,
            request.cis,
            request.variables,
            request.timeout,
            request.translate,
            path_key,
            request.http_cassette,
            request.not_before,
        ),
        PROTOCOL,
    )
    if type_key not in known:
        definitions[type_key] = type_data
        known.add(type_key)
    if source_key not in known:
        definitions[source_key] = request.source
        known.add(source_key)
    if path_key is not None and path_key not in known:
        definitions[path_key] = request.module_path
        known.add(path_key)
    return payload


class Decoder:
    """The worker's side: remembers definitions and rebuilds requests."""

    def __init__(self) -> None:
        self._types: dict[str, TaskType] = {}
        self._sources: dict[str, str] = {}
        self._paths: dict[str, tuple[tuple[str, str], ...]] = {}

    def define(self, definitions: dict[str, Any]) -> None:
        """Remember the types (pickled), module paths and sources sent with a batch."""
        for key, value in definitions.items():
            if key.startswith("t:"):
                self._types[key] = pickle.loads(value)
            elif key.startswith("m:"):
                self._paths[key] = value
            else:
                self._sources[key] = value

    def decode(self, payload: bytes) -> ScriptRunRequest:
        """The request ``payload`` encodes (its type and source must have been defined)."""
        (run_id, task_id, type_key, title, script_path, script_file, source_key, properties, cis, variables,
         timeout, translate, path_key, http_cassette, not_before) = pickle.loads(payload)  # fmt: skip
        return frozen_record(
            ScriptRunRequest,
            run_id=run_id,
            task_id=task_id,
            task_type=self._types[type_key],
            title=title,
            script_path=script_path,
            script_file=script_file,
            source=self._sources[source_key],
            properties=properties,
            cis=cis,
            variables=variables,
            timeout=timeout,
            translate=translate,
            module_path=self._paths[path_key] if path_key is not None else (),
            http_cassette=http_cassette,
            not_before=not_before,
        )


def run_id_of(payload: bytes) -> int:
    """The run id of an encoded request (to fail it when it cannot be decoded)."""
    return int(pickle.loads(payload)[0])


def encode_result(result: ScriptRunResult, worker_pid: int, retire: str | None = None) -> bytes:
    """The message ``("result", fields, retire)`` as pickled bytes: ``result``, stamped with ``worker_pid``, as
    plain values, and why the worker stops after it (``None``: it does not). Raises whatever pickling raises for a
    value that cannot be sent."""
    schedule, failure = result.schedule, result.failure
    fields = (
        result.run_id,
        str(result.outcome),
        result.properties,
        result.status_line,
        None if schedule is None else (schedule.script_path, schedule.interval),
        [(line.time, line.stream, line.text) for line in result.log],
        None if failure is None else (failure.kind, failure.message, failure.traceback),
        result.started_at,
        result.ended_at,
        worker_pid,
        result.variables,
    )
    return pickle.dumps(("result", fields, retire), PROTOCOL)


def decode_result(fields: tuple[Any, ...]) -> ScriptRunResult:
    """The result :func:`encode_result` sent (the second item of its message)."""
    run_id, outcome, properties, status_line, schedule, log, failure, started_at, ended_at, pid, variables = fields
    return frozen_record(
        ScriptRunResult,
        run_id=run_id,
        outcome=_OUTCOMES[outcome],
        properties=properties,
        status_line=status_line,
        schedule=None if schedule is None else ScheduleRequest(*schedule),
        log=[LogLine(*line) for line in log],
        failure=None if failure is None else Failure(*failure),
        started_at=started_at,
        ended_at=ended_at,
        worker_pid=pid,
        variables=variables,
    )
