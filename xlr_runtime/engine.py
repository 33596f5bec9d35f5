"""The task lifecycle: create a task from its inputs, turn a stored script run into a request for a worker,
turn the worker's result into one committed change, and the user operations abort, retry and skip.

Rules (XL Release's, see ``docs/running-tasks.md``): a script that ends normally without ``task.schedule()``
completes the task; an exception, ``sys.exit(n != 0)``, a timeout or a crashed worker fails it. A script that
calls ``task.schedule(path, interval)`` keeps the task in progress and the next script is due ``interval``
seconds later (default ``schedule.default_interval``; below ``schedule.min_interval`` it is raised to the
minimum with a warning in the task log; one that is not a finite number from 0 to :data:`MAX_INTERVAL` fails the
task). A path that is not in the task's plugin fails the task.

No single run's result can stop the runtime: when a batch of results cannot be committed, each is committed
alone, and a result the store refuses fails its own run and task with the reason (:meth:`Engine.commit`). Only a
database that cannot be written for now (:class:`StoreUnavailableError`) is raised, for the caller to retry.

Password property values are stored sealed (:class:`~xlr_runtime.secrets.SecretBox`, the home's ``secret.key``):
the engine seals them before anything is written and opens them only in :meth:`Engine.prepare`, for the worker.
So are the values of other inputs its caller names secret (``create_task(secret_inputs=…)``: a Rundeck step
given a secure option): while a task holds a sealed value, that property is a password property for its runs.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Protocol

import pluggy

from xlr_runtime.cis import CiCatalog
from xlr_runtime.clock import Clock
from xlr_runtime.compat.modules import ModulePath, module_path
from xlr_runtime.errors import (
    UNKNOWN_TYPE_HINT,
    ConfigError,
    StoreError,
    StoreUnavailableError,
    TaskInputError,
    UnknownTypeError,
    ValueCoercionError,
)
from xlr_runtime.mask import MASK
from xlr_runtime.records import frozen_record
from xlr_runtime.scripting.api import MAX_INTERVAL
from xlr_runtime.scripting.contract import CiValue, Failure, LogLine, RunOutcome, ScriptRunRequest, ScriptRunResult
from xlr_runtime.secrets import SecretBox, is_sealed
from xlr_runtime.settings import Settings
from xlr_runtime.store import RunCompletion, ScriptRun, Store, Task, TaskStatus
from xlr_runtime.store.owners import ProcessIdentity
from xlr_runtime.typesystem.digest import TypeDigests
from xlr_runtime.typesystem.kinds import coerce
from xlr_runtime.typesystem.model import PropertyDef, TaskType
from xlr_runtime.typesystem.sources import PluginSource

log = logging.getLogger(__name__)

#: The log line a re-queued run gets when a runtime starts after a crash.
RESTART_NOTE = "Script {path} is re-run after a restart (it was running when the runtime stopped)."
#: The log line a run gets when a runtime takes it over from one whose lease ran out (``{owner}``: its name).
TAKEN_OVER_NOTE = (
    "Script {path} is re-run: it was taken over from a lost runtime ({owner}: its lease ran out, its host is "
    "unreachable or stalled); a late result of that runtime is ignored."
)
#: Why a run of a type that another live runtime of the store defines differently fails (its task log says it).
DISAGREEMENT_NOTE = (
    "type {type} is defined differently on {other} than on this host ({here}): its definition or scripts differ, "
    "so the run is not started with either; deploy the same plugins to every host that shares the store"
)
#: The log line a run gets when a stopping runtime waited a grace period for it in vain.
STOP_NOTE = "Script {path} did not end within the grace period; it is re-run when the runtime starts again."
#: The log line a run gets when a runtime stopped without a grace period.
STOPPED_NOTE = "Script {path} was interrupted (the runtime stopped); it is re-run when the runtime starts again."
#: The log line a run gets when ``xlr run`` is stopped (Ctrl-C) while its script runs.
INTERRUPT_NOTE = "Script {path} was interrupted (xlr run stopped); it is re-run when the runtime starts again."


class ScriptSourceLike(Protocol):
    """A script found in a plugin: its display path (for tracebacks) and its text."""

    @property
    def display_path(self) -> str:
        """The path the script is compiled under (``/p/plugin.jar!/jenkins/Build.py`` in an archive)."""
        ...

    def read(self) -> str:
        """The script's source text."""
        ...


class TypeSource(Protocol):
    """The part of the type registry the engine and its scheduler use
    (:class:`~xlr_runtime.typesystem.registry.TypeRegistry`)."""

    @property
    def digests(self) -> TypeDigests:
        """The digest of each type and of the whole registry, which hosts sharing a store compare."""
        ...

    @property
    def plugins(self) -> tuple[PluginSource, ...]:
        """The loaded plugins in discovery order: where scripts import plugin modules from."""
        ...

    def get(self, name: str) -> TaskType:
        """The loaded type ``name`` (raises :class:`UnknownTypeError`)."""
        ...

    def find_script(self, task_type: TaskType, path: str) -> ScriptSourceLike | None:
        """The script at ``path`` (relative to the plugin root) of ``task_type``'s plugin, or ``None``."""
        ...


class Engine:
    """Task lifecycle over a store, a type registry, the CIs and the settings; time from ``clock``.

    Methods that end or start tasks call the ``xlr_task_started`` / ``xlr_task_ended`` hooks of ``pm``.
    ``secrets`` seals password property values (default: the key ``secret.key`` beside the store's database).
    """

    def __init__(
        self,
        store: Store,
        registry: TypeSource,
        settings: Settings,
        clock: Clock,
        *,
        cis: CiCatalog | None = None,
        pm: pluggy.PluginManager | None = None,
        translate_modes: Mapping[str, str] | None = None,
        secrets: SecretBox | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.settings = settings
        self.clock = clock
        self.cis = cis or CiCatalog()
        self.pm = pm
        self.translate_modes = dict(translate_modes or {})  # plugin name -> Python 2 translation mode
        self._sources: dict[tuple[str, str], tuple[str, str] | None] = {}
        self._ci_properties: dict[str, tuple[PropertyDef, ...]] = {}  # type name -> its kind="ci" properties
        self._run_types: dict[int, str] = {}  # run id -> task type name, from prepare() to completion()
        self.secrets = secrets or SecretBox(store.home_dir)
        #: This process, as its owner row records it and as messages name it (the scheduler's too).
        self.identity = ProcessIdentity.current()
        self._passwords: dict[str, frozenset[str]] = {}  # type name -> its password properties
        self._run_secrets: dict[int, frozenset[str]] = {}  # run id -> its task's sealed non-password properties
        #: (type name, sealed non-password properties) -> (the registry's type, that type with them as passwords)
        self._secret_types: dict[tuple[str, frozenset[str]], tuple[TaskType, TaskType]] = {}
        #: type name -> where another live runtime of the store defines it differently (``pid 1 (xlr serve) on
        #: host``): the scheduler keeps it current (docs/cluster.md); runs of these types fail instead of running.
        self.disagreements: Mapping[str, str] = {}
        self._max_status_line = int(settings["scripts.max_status_line_bytes"])
        self._max_property = int(settings["scripts.max_property_bytes"])

    # -- creating ----------------------------------------------------------------------------------------------

    def create_task(
        self,
        type_name: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        title: str | None = None,
        variables: Mapping[str, Any] | None = None,
        secret_inputs: Iterable[str] = (),
    ) -> Task:
        """Validate ``inputs`` against the type and store a planned task whose first script is due now.

        ``secret_inputs`` names inputs whose values are secrets although their properties are not passwords (a
        Rundeck step given a secure option value): they are sealed like password values, and the task's runs
        treat them as password properties (masked in its log, sealed again when a script sets them).

        ``inputs`` maps property names to values (text as from the CLI, or Python values); a ``kind="ci"``
        property takes a CI name from ``xlr.toml``. Raises :class:`TaskInputError` (nothing stored) for a
        type that cannot run, an unknown or non-input property, a value of the wrong kind, an unknown CI or a
        missing required input; :class:`UnknownTypeError` for an unknown type.
        """
        task_type = self.registry.get(type_name)
        if not task_type.is_python_script:
            raise TaskInputError(f"{type_name} is not a custom script task (it does not extend xlrelease.PythonScript)")
        if task_type.virtual:
            raise TaskInputError(
                f"{type_name} is virtual: only its concrete subtypes can run",
                hint="Run 'xlr types' to list the runnable types.",
            )
        given = self._coerced_inputs(task_type, dict(inputs or {}))
        # XL Release's values for what is unset: a default, else False / [] / {} / None by kind (docs/types.md)
        properties = {name: prop.initial_value for name, prop in task_type.properties.items()}
        properties.update(given)
        missing = [p.name for p in task_type.by_category("input") if p.required and _is_empty(properties.get(p.name))]
        if missing:
            raise TaskInputError(
                f"{type_name}: missing required input {missing[0]!r}"
                + (f" (and {', '.join(map(repr, missing[1:]))})" if missing[1:] else ""),
                prop=missing[0],
                hint=_missing_hint(task_type.properties[missing[0]]),
            )
        secret = frozenset(secret_inputs).intersection(given)
        task = self.store.tasks.create(
            type_name=type_name,
            title=title or task_type.label or type_name,
            properties=self._sealed(task_type, properties, secret),
            inputs=self._sealed(task_type, given, secret),
            variables=dict(variables or {}),
            first_script=task_type.script_location,
            now=self.clock.now(),
        )
        log.info("task %s (%s) created", task.id, type_name, extra={"event": "task.created", "task_id": int(task.id)})
        return task

    def _coerced_inputs(self, task_type: TaskType, inputs: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, raw in inputs.items():
            prop = task_type.properties.get(name)
            if prop is None or not prop.is_input:
                what = "no property" if prop is None else "no input called"
                inputs_hint = ", ".join(p.name for p in task_type.by_category("input")) or "none"
                raise TaskInputError(
                    f"{task_type.name} has {what} {name!r}", prop=name, hint=f"Its inputs: {inputs_hint}."
                )
            try:
                value = coerce(name, prop.kind, raw, prop.enum_values)
            except ValueCoercionError as exc:
                raise TaskInputError(str(exc), prop=name) from None
            if prop.kind.is_ci and value is not None:
                for ci_name in value if isinstance(value, list) else [value]:
                    self.cis.require(ci_name, prop=name, referenced_type=prop.referenced_type)
            result[name] = value
        return result

    # -- running -----------------------------------------------------------------------------------------------

    def prepare_all(
        self, runs: Sequence[ScriptRun], tasks: Mapping[str, Task] | None = None
    ) -> list[ScriptRunRequest | RunCompletion]:
        """:meth:`prepare` for several claimed runs; ``tasks`` are their tasks by id when the caller read them
        already (the scheduler shares one read with :meth:`claimed`), else they are read in one query."""
        if tasks is None:
            tasks = self.store.tasks.get_many(run.task_id for run in runs)
        return [self._prepared(run, tasks.get(run.task_id)) for run in runs]

    def _prepared(self, run: ScriptRun, task: Task | None) -> ScriptRunRequest | RunCompletion:
        try:
            return self.prepare(run, task)
        except StoreUnavailableError:
            raise
        except Exception as exc:  # one run that cannot be prepared fails alone, never the others or the runtime
            log.exception("script run %s cannot start", run.id)
            return self._cannot_start(run, f"the script run cannot start ({type(exc).__name__}: {exc})")

    def prepare(self, run: ScriptRun, task: Task | None = None) -> ScriptRunRequest | RunCompletion:
        """The request for a claimed run, or a completion failing the task when the run cannot start (its type
        is no longer loaded, its script is missing from the plugin, a CI password variable is not set).
        ``task`` is the run's task when the caller has read it already."""
        task = task or self.store.tasks.get(run.task_id)
        self._run_types[run.id] = task.type
        try:
            task_type = self.registry.get(task.type)
        except UnknownTypeError as exc:
            return self._cannot_start(run, f"{exc} (was its plugin removed? {UNKNOWN_TYPE_HINT})")
        if task_type.name in self.disagreements:
            return self._cannot_start(run, self._disagreement(task_type.name))
        source = self._script(task_type, run.script_path)
        if source is None:
            return self._cannot_start(run, f"script {run.script_path!r} is not in the plugin of {task_type.name}")
        try:
            cis = self._resolve_cis(task_type, task.properties)
            properties = self._opened(task_type, task.properties)
        except (ConfigError, TaskInputError) as exc:
            return self._cannot_start(run, str(exc))
        secret = self._sealed_others(task_type, task.properties)
        if secret:  # the run masks them and hands them back in clear, to be sealed again by completion()
            self._run_secrets[run.id] = secret
            task_type = self._with_passwords(task_type, secret)
        return frozen_record(  # built for every script run, in the scheduler's thread
            ScriptRunRequest,
            run_id=run.id,
            task_id=task.id,
            task_type=task_type,
            title=task.title,
            script_path=run.script_path,
            script_file=source[0],
            source=source[1],
            properties=properties,
            cis=cis,
            variables=dict(task.variables),
            timeout=float(self.settings["scripts.timeout"]),
            translate=self.translate_modes.get(task_type.plugin, str(self.settings["scripts.translate"])),
            module_path=self.module_path,
            http_cassette=None,  # the test harness's executor sets it (xlr_runtime.testing.cassettes)
            not_before=run.due_at if run.started_at is not None and run.due_at > run.started_at else 0.0,
        )

    def _disagreement(self, type_name: str) -> str:
        here = f"pid {self.identity.pid} on {self.identity.host}"
        return DISAGREEMENT_NOTE.format(type=type_name, other=self.disagreements[type_name], here=here)

    @functools.cached_property
    def module_path(self) -> ModulePath:
        """Where scripts import plugin modules from: ``ext/`` first, then every loaded plugin in discovery order,
        each with its translation mode (one tuple for every run, so the wire sends it to a worker once)."""
        return module_path(self.registry.plugins, self.translate_modes, str(self.settings["scripts.translate"]))

    # -- sealed passwords --------------------------------------------------------------------------------------

    def _password_names(self, task_type: TaskType) -> frozenset[str]:
        names = self._passwords.get(task_type.name)
        if names is None:  # read for every script run, so found once per type
            names = self._passwords[task_type.name] = frozenset(task_type.password_properties)
        return names

    def _sealed(
        self, task_type: TaskType, properties: Mapping[str, Any], others: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        """``properties`` with the values of password properties (and of ``others``) sealed (before they are
        stored)."""
        names = self._password_names(task_type) | others
        if names.isdisjoint(properties):
            return dict(properties)
        return {k: self.secrets.seal_value(v) if k in names else v for k, v in properties.items()}

    def _sealed_others(self, task_type: TaskType, properties: Mapping[str, Any]) -> frozenset[str]:
        """The properties that hold a sealed value although they are not passwords (``secret_inputs``)."""
        names = self._password_names(task_type)
        return frozenset(k for k, v in properties.items() if k not in names and is_sealed(v))

    def _with_passwords(self, task_type: TaskType, names: frozenset[str]) -> TaskType:
        """``task_type`` with ``names`` made password properties, for the runs of a task that holds them sealed."""
        key = (task_type.name, names)
        found = self._secret_types.get(key)
        if found is None or found[0] is not task_type:
            properties = {
                name: dataclasses.replace(prop, password=True) if name in names else prop
                for name, prop in task_type.properties.items()
            }
            found = (task_type, dataclasses.replace(task_type, properties=MappingProxyType(properties)))
            self._secret_types[key] = found
        return found[1]

    def _opened(self, task_type: TaskType, properties: Mapping[str, Any]) -> dict[str, Any]:
        """``properties`` with sealed values opened (for a worker): password properties, and other properties
        that hold a sealed value (``secret_inputs``); :class:`TaskInputError` when the home's key cannot open
        them."""
        names = self._password_names(task_type) | self._sealed_others(task_type, properties)
        opened = dict(properties)
        for name in names.intersection(properties):
            try:
                opened[name] = self.secrets.open_value(properties[name])
            except StoreError:
                raise TaskInputError(
                    f"password property {name!r} cannot be decrypted with {self.secrets.path}: the key was lost or "
                    "replaced since the task was created; create the task again with its password"
                ) from None
        return opened

    def _script(self, task_type: TaskType, path: str) -> tuple[str, str] | None:
        key = (task_type.name, path)
        if key not in self._sources:
            found = self.registry.find_script(task_type, path)
            self._sources[key] = None if found is None else (found.display_path, found.read())
        return self._sources[key]

    def _resolve_cis(self, task_type: TaskType, properties: Mapping[str, Any]) -> dict[str, CiValue | list[CiValue]]:
        cis: dict[str, CiValue | list[CiValue]] = {}
        ci_properties = self._ci_properties.get(task_type.name)
        if ci_properties is None:  # read for every script run, so found once per type
            ci_properties = tuple(prop for prop in task_type.properties.values() if prop.kind.is_ci)
            self._ci_properties[task_type.name] = ci_properties
        for prop in ci_properties:
            value = properties.get(prop.name)
            if value in (None, [], ""):
                continue
            names = value if isinstance(value, list) else [value]
            resolved = [
                self.cis.require(n, prop=prop.name, referenced_type=prop.referenced_type).resolve() for n in names
            ]
            cis[prop.name] = resolved if isinstance(value, list) else resolved[0]
        return cis

    def _cannot_start(self, run: ScriptRun, reason: str, *, started_at: float | None = None) -> RunCompletion:
        now = self.clock.now()
        return RunCompletion(
            run_id=run.id,
            outcome=str(RunOutcome.FAILED),
            started_at=now if started_at is None else started_at,
            ended_at=now,
            failure=Failure("ScriptError", reason),
            log=[LogLine(now, "system", f"Task failed: {reason}")],
            task_status=TaskStatus.FAILED,
            task_failure=reason,
            claim_token=run.claim_token,
        )

    def unusable(self, run: ScriptRun, reason: str) -> RunCompletion:
        """A completion failing ``run`` and its task with ``reason``, for a result that cannot be used."""
        return self._cannot_start(run, reason, started_at=run.started_at)

    def completion(self, run: ScriptRun, result: ScriptRunResult) -> RunCompletion:
        """What a finished run changes: properties (passwords sealed), status line, log, and the next run or the
        task's end."""
        now = self.clock.now()
        log_lines = list(result.log)
        task_type = self._run_type(run)
        task_status, task_failure, next_script, next_due_at = self._after(result, task_type, log_lines, now)
        status_line = result.status_line
        if status_line is not None and len(status_line) > self._max_status_line // _MAX_BYTES_PER_CHAR:
            status_line = self._capped_status_line(status_line, log_lines, now)
        properties = result.properties
        if properties:
            properties = self._capped_properties(properties, log_lines, now)
        return frozen_record(  # built for every script run, in the scheduler's thread
            RunCompletion,
            run_id=run.id,
            outcome=str(result.outcome),
            # a run claimed ahead of its due time started at its due time (its worker held it back until then)
            started_at=max(run.started_at, run.due_at) if run.started_at is not None else now,
            ended_at=now,
            worker_pid=result.worker_pid,
            failure=result.failure,
            # a failed run returns only what the script kept with pythonScript.setProperty (see scripting.api)
            properties=(
                self._sealed(task_type, properties, self._run_secrets.pop(run.id, frozenset()))
                if task_type
                else dict(properties)
            ),
            status_line=status_line,
            log=log_lines,
            next_script=next_script,
            next_due_at=next_due_at,
            task_status=task_status,
            task_failure=task_failure,
            variables=result.variables,
            claim_token=run.claim_token,
        )

    def _capped_status_line(self, text: str, log_lines: list[LogLine], now: float) -> str:
        """``text`` cut to ``scripts.max_status_line_bytes`` (marked, with a warning line in the log)."""
        cut = _cut_text(text, self._max_status_line, "scripts.max_status_line_bytes")
        if cut is None:
            return text
        log_lines.append(LogLine(now, "system", f"Warning: the status line {cut[1]}"))
        return cut[0]

    def _capped_properties(
        self, properties: Mapping[str, Any], log_lines: list[LogLine], now: float
    ) -> Mapping[str, Any]:
        """``properties`` with each value larger than ``scripts.max_property_bytes`` cut (marked, with a warning
        line in the log)."""
        limit = self._max_property
        short = limit // _MAX_BYTES_PER_CHAR
        capped: dict[str, Any] | None = None  # a copy only when something is cut (read for every script run)
        for name, value in properties.items():
            if value is None or (isinstance(value, str) and len(value) <= short) or _fits(value, limit):
                continue
            cut = _cut_value(value, limit, "scripts.max_property_bytes")
            if cut is not None:
                capped = dict(properties) if capped is None else capped
                capped[name] = cut[0]
                log_lines.append(LogLine(now, "system", f"Warning: property {name!r} {cut[1]}"))
        return properties if capped is None else capped

    def _after(
        self, result: ScriptRunResult, task_type: TaskType | None, log_lines: list[LogLine], now: float
    ) -> tuple[TaskStatus | None, str | None, str | None, float | None]:
        """``(task status, task failure, next script, its due time)`` after ``result``: the task's end or its next
        run. Appends the log lines that say why a task fails or why an interval was raised."""
        if not result.succeeded:
            reason = _failure_text(result)
            log_lines.append(LogLine(now, "system", f"Task failed: {reason}"))
            return TaskStatus.FAILED, reason, None, None
        if result.schedule is None:
            return TaskStatus.COMPLETED, None, None, None
        path = result.schedule.script_path
        if task_type is None or self._script(task_type, path) is None:
            owner = task_type.name if task_type is not None else "its task type"
            reason = f"task.schedule(): script {path!r} is not in the plugin of {owner}"
            log_lines.append(LogLine(now, "system", f"Task failed: {reason}"))
            return TaskStatus.FAILED, reason, None, None
        interval = self._interval(result.schedule.interval, log_lines, now)
        if interval is None:
            asked = result.schedule.interval
            # a number is shown; anything else only by its type (it was not masked, and could hold a secret)
            shown = repr(asked) if isinstance(asked, int | float) else f"of type {type(asked).__name__}"
            reason = f"task.schedule(): interval {shown} is not a number of seconds from 0 to {MAX_INTERVAL:.0f}"
            log_lines.append(LogLine(now, "system", f"Task failed: {reason}"))
            return TaskStatus.FAILED, reason, None, None
        return None, None, path, now + interval

    def _run_type(self, run: ScriptRun) -> TaskType | None:
        """The task type of a run :meth:`prepare` handed out (read from the store for a run it did not), or
        ``None`` when the type is no longer loaded."""
        type_name = self._run_types.pop(run.id, None) or self.store.tasks.get(run.task_id).type
        try:
            return self.registry.get(type_name)
        except UnknownTypeError:
            return None

    def _interval(self, asked: Any, log_lines: list[LogLine], now: float) -> float | None:
        """The interval to wait, or ``None`` for one that is not a finite number of seconds from 0 to
        :data:`MAX_INTERVAL` (``task.schedule()`` refuses those in the script; this guards other executors)."""
        minimum = float(self.settings["schedule.min_interval"])
        if asked is None:
            return float(self.settings["schedule.default_interval"])
        if not isinstance(asked, int | float):
            return None
        if not 0 <= asked <= MAX_INTERVAL:  # also NaN and infinities
            return None
        if asked < minimum:
            log_lines.append(
                LogLine(
                    now,
                    "system",
                    f"Warning: task.schedule() interval {asked:g}s is below the "
                    f"minimum of {minimum:g}s; using {minimum:g}s.",
                )
            )
            return minimum
        return float(asked)

    def commit(self, completions: Sequence[RunCompletion], task_ids: Mapping[int, str] | None = None) -> list[Task]:
        """Record ``completions`` in one transaction; return the tasks that ended (their hooks are called).

        ``task_ids`` maps each completion's run id to its task id when the caller knows them (the scheduler
        does); otherwise the ended runs' task ids are looked up in the store.

        When the batch cannot be stored, each completion is stored alone, and one the store refuses (any error but
        :class:`StoreUnavailableError`) is replaced by a failure of its run and task that says why
        (:meth:`_unstorable`): one script's output never stops the others' results, nor the runtime. A database
        that cannot be written for now raises :class:`StoreUnavailableError`; nothing is lost by calling again
        with the same completions (a run already recorded is ignored)."""
        if not completions:
            return []
        recorded = self._record(completions)
        ending = [c for c in recorded if c.task_status is not None]
        if not ending:
            return []
        if task_ids is None:
            task_ids = self.store.tasks.task_ids_of_runs(c.run_id for c in ending)
        tasks = self.store.tasks.get_many(task_ids[c.run_id] for c in ending)  # (not the batch's other tasks)
        ended = [
            task
            for c in ending
            if (task := tasks[task_ids[c.run_id]]).status == c.task_status  # not when aborted or skipped meanwhile
        ]
        self._notify_ended(ended)
        return ended

    def _record(self, completions: Sequence[RunCompletion]) -> list[RunCompletion]:
        """Store ``completions`` (one transaction, or one each after a failure); return those recorded."""
        try:
            recorded = set(self.store.tasks.complete(completions, owner=self.store.owner))
        except StoreUnavailableError:
            raise
        except Exception as exc:  # a result the store refuses: find it, fail its run, keep the others
            if len(completions) > 1:
                return [c for one in completions for c in self._record([one])]
            return self._unstorable(completions[0], exc)
        if len(recorded) == len(completions):
            return list(completions)
        for dropped in (c for c in completions if c.run_id not in recorded):
            log.warning(
                "script run %s: result dropped: the run is no longer this runtime's (claim %s; re-queued or taken "
                "over by another runtime after its lease ran out)",
                dropped.run_id,
                dropped.claim_token,
            )
        return [c for c in completions if c.run_id in recorded]

    def _unstorable(self, completion: RunCompletion, exc: Exception) -> list[RunCompletion]:
        """Fail the run and task of a ``completion`` the store refused with ``exc``, keeping only the reason."""
        reason = f"its result could not be stored ({type(exc).__name__}: {exc}); its output was dropped"
        log.error("script run %s: %s", completion.run_id, reason)
        now = self.clock.now()
        failure = RunCompletion(
            run_id=completion.run_id,
            outcome=str(RunOutcome.FAILED),
            started_at=completion.started_at,
            ended_at=completion.ended_at,
            worker_pid=completion.worker_pid,
            failure=Failure("StoreError", reason),
            log=[LogLine(now, "system", f"Task failed: {reason}")],
            task_status=TaskStatus.FAILED,
            task_failure=reason,
            claim_token=completion.claim_token,
        )
        try:
            recorded = self.store.tasks.complete([failure], owner=self.store.owner)
        except StoreUnavailableError:
            raise
        except Exception:  # not even the reason can be stored: the run stays running and is re-run after a restart
            log.exception("script run %s: its failure could not be stored either", completion.run_id)
            return []
        return [failure] if recorded else []

    def claimed(self, runs: Iterable[ScriptRun], tasks: Mapping[str, Task] | None = None) -> None:
        """Call ``xlr_task_started`` for the tasks whose first script run was just claimed; ``tasks`` are the
        runs' tasks by id when the caller read them already (else one query per claimed batch)."""
        if self.pm is None or not self.pm.hook.xlr_task_started.get_hookimpls():
            return
        firsts = [run for run in runs if run.seq == 1 and run.restarts == 0]
        if tasks is None:
            tasks = self.store.tasks.get_many(run.task_id for run in firsts)
        for run in firsts:
            self._call_hook("xlr_task_started", tasks[run.task_id])

    # -- user operations ---------------------------------------------------------------------------------------

    def abort(self, task_id: str, *, reason: str = "Aborted by user") -> Task:
        """Abort a planned or in-progress task: its pending script run is cancelled (a running one finishes,
        but its result no longer changes the task). :class:`StateError` for a task that already ended."""
        task = self.store.tasks.finish(
            task_id,
            status=TaskStatus.ABORTED,
            now=self.clock.now(),
            note=reason,
            failure=reason,
            allowed_from=(TaskStatus.PLANNED, TaskStatus.IN_PROGRESS),
        )
        self._notify_ended([task])
        return task

    def skip(self, task_id: str) -> Task:
        """Skip a task that has not completed (planned, in progress, failed or aborted)."""
        task = self.store.tasks.finish(
            task_id,
            status=TaskStatus.SKIPPED,
            now=self.clock.now(),
            note="Skipped by user",
            allowed_from=(TaskStatus.PLANNED, TaskStatus.IN_PROGRESS, TaskStatus.FAILED, TaskStatus.ABORTED),
        )
        self._notify_ended([task])
        return task

    def retry(self, task_id: str) -> Task:
        """Start a failed or aborted task again from its first script, with its original inputs; the attempt
        number goes up by one. :class:`StateError` for a task in any other status."""
        task = self.store.tasks.get(task_id)
        task_type = self.registry.get(task.type)
        properties = {name: prop.initial_value for name, prop in task_type.properties.items()}
        properties.update(task.inputs)
        return self.store.tasks.restart(
            task_id,
            allowed_from=(TaskStatus.FAILED, TaskStatus.ABORTED),
            properties=self._sealed(task_type, properties),
            first_script=task_type.script_location,
            now=self.clock.now(),
            note=f"Retry: attempt {task.attempt + 1} starts from {task_type.script_location}",
        )

    def _notify_ended(self, tasks: Iterable[Task]) -> None:
        for task in tasks:
            self._call_hook("xlr_task_ended", task)

    def _call_hook(self, name: str, task: Task) -> None:
        if self.pm is None:
            return
        try:
            getattr(self.pm.hook, name)(task=task)
        except Exception:  # an observer must never break the lifecycle; it is logged with its traceback
            log.exception("%s hook failed for task %s", name, task.id)


#: The most bytes one code point takes as UTF-8 or escaped in JSON (``\u001f``): a text of at most limit / 6
#: characters fits without being measured.
_MAX_BYTES_PER_CHAR = 6
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _json_size(value: Any) -> int:
    return _utf8_size(_JSON.encode(value))


def _fits(value: Any, limit: int) -> bool:
    """True when ``value`` is certainly no larger than ``limit`` bytes, by counting characters (cheap)."""
    budget = limit // _MAX_BYTES_PER_CHAR
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            budget -= len(item) + 2
        elif isinstance(item, dict):
            budget -= 2
            for key, inner in item.items():
                stack.append(key)
                stack.append(inner)
        elif isinstance(item, list | tuple | set | frozenset):
            budget -= 2
            stack.extend(item)
        else:
            budget -= 24  # a number, a boolean, None, or an object stored as its str()
        if budget < 0:
            return False
    return True


def _cut_text(text: str, limit: int, setting: str, setting_value: int | None = None) -> tuple[str, str] | None:
    """``(text cut to at most limit bytes and marked, what happened)``, or ``None`` when ``text`` fits. The
    marker names the setting and its value (``setting_value``, when ``limit`` is the room left in a list)."""
    size = _utf8_size(text)
    if size <= limit:
        return None
    marker = f" [truncated: {size} bytes; {setting} is {limit if setting_value is None else setting_value}]"
    room = max(0, limit - len(marker))
    kept = text[:room]
    excess = _utf8_size(kept) - room
    while excess > 0:
        kept = kept[: len(kept) - max(1, excess // 4)]
        excess = _utf8_size(kept) - room
    return kept + marker, f"of {size} bytes was cut to {limit} bytes ({setting})."


def _cut_value(value: Any, limit: int, setting: str) -> tuple[Any, str] | None:
    """``(value cut to at most about limit bytes, what happened)``, or ``None`` when it fits. Text is cut and
    marked; a list or map keeps its first items that fit (a text item that does not fit is cut and marked)."""
    if isinstance(value, str):
        return _cut_text(value, limit, setting)
    if not isinstance(value, list | tuple | set | frozenset | dict):
        return None
    size = _json_size(value)
    if size <= limit:
        return None
    items = list(value.items()) if isinstance(value, dict) else list(value)
    kept: list[Any] = []
    used = 2
    for item in items:
        piece = _json_size(item if not isinstance(value, dict) else {item[0]: item[1]}) + 1
        if used + piece > limit:
            text = item[1] if isinstance(value, dict) else item
            room = limit - used - (piece - _json_size(text)) - 1
            if isinstance(text, str) and room > 64:
                cut = _cut_text(text, room, setting, limit)
                text = cut[0] if cut is not None else text
                kept.append((item[0], text) if isinstance(value, dict) else text)
            break
        kept.append(item)
        used += piece
    what = f"of {size} bytes ({len(items)} items) was cut to its first {len(kept)} items ({setting} is {limit} bytes)."
    return (dict(kept) if isinstance(value, dict) else kept), what


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _missing_hint(prop: PropertyDef) -> str:
    if prop.kind.is_ci:
        return f"Give it with --ci {prop.name}=NAME, a CI defined as [ci.NAME] in xlr.toml."
    return f"Give it with -i {prop.name}=VALUE."


def _failure_text(result: ScriptRunResult) -> str:
    if result.failure is None:
        return f"script run {result.outcome}"
    kind, message = result.failure.kind, result.failure.message
    if not message:
        return kind
    if kind == "SystemExit":  # the script's own reason (sys.exit("…")) or "script exited with code N"
        return message
    return message if f"{kind}:" in message else f"{kind}: {message}"


#: Parts of property names that mark a secret, for values stored before password values were sealed.
_SECRET_NAME_PARTS = ("password", "secret", "token", "passphrase", "apikey", "api_key", "credential")


def _named_like_secret(name: str) -> bool:
    return any(part in name.lower() for part in _SECRET_NAME_PARTS)


def masked_properties(task_type: TaskType | None, properties: Mapping[str, Any]) -> dict[str, Any]:
    """``properties`` with every password property's value, and every sealed value, replaced by ``********`` (for
    display and JSON). Without its type (its plugin is not loaded, so nothing says which are passwords), an
    unsealed value of a property named like a secret is masked too (an older database stored passwords in clear)."""
    if task_type is None:
        return {
            name: MASK if is_sealed(value) or (value not in (None, "") and _named_like_secret(name)) else value
            for name, value in properties.items()
        }
    secret = set(task_type.password_properties)
    return {
        name: (MASK if (name in secret and value not in (None, "")) or is_sealed(value) else value)
        for name, value in properties.items()
    }
