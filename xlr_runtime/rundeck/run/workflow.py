"""One execution's workflow, driven step by step with its state saved after every step on every node.

:class:`WorkflowRun` resolves the nodes, plans the step groups (:mod:`~xlr_runtime.rundeck.run.flow`), runs each
step (exec, script, scriptfile, scripturl, job reference, plugin step) with its error handler, applies the
keepgoing table, and ends with a status. The ``cursor`` it saves (group, per-node position, failures, running
plugin tasks) lets a restarted runtime carry on where it was: the step that was running is run again. Its
``steps`` say how each step went on each node (state, times), for ``xlr jobs run --follow``'s progress.

With the ``parallel`` strategy every step runs in its own thread from the start (Rundeck's
``ParallelWorkflowStrategy``: each step's start condition is only "the workflow started"). A node step still
goes to every node as in step-first; a failure never stops the steps already running, whatever ``keepgoing``
says (Rundeck's engine lets running operations finish when the workflow reaches its end state), and the
workflow fails when any step fails. The cursor then keeps one *branch* per step (``branches``: its node
positions, its failed nodes, whether it is done), so a restart resumes only the steps that had not finished.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import requests

from xlr_runtime.errors import (
    ClaimLostError,
    NodeConnectionError,
    NodeExecutorError,
    NodeFilterError,
    OptionValueError,
    XlrError,
)
from xlr_runtime.rundeck.jobs.model import ExecStep, Job, JobRefStep, PluginStep, ScriptKind, ScriptStep, Step
from xlr_runtime.rundeck.jobs.validation import whole_number
from xlr_runtime.rundeck.nodes.local import (
    CommandResult,
    LineSink,
    StopCheck,
    StopReason,
    deadline_check,
    fetch_script,
    run_shell,
    write_script,
)
from xlr_runtime.rundeck.nodes.nodefilter import combine_filters, order_nodes, select_nodes
from xlr_runtime.rundeck.nodes.resources import Node, project_nodes
from xlr_runtime.rundeck.nodes.ssh.remote import RemoteNodes
from xlr_runtime.rundeck.run.context import (
    DataContext,
    capture_data,
    environment,
    expand,
    expand_command,
    replace_script_tokens,
    script_command,
)
from xlr_runtime.rundeck.run.flow import PARALLEL, StepGroup, StepVerdict, plan, step_verdict
from xlr_runtime.rundeck.run.node_options import NodeDefaults, read_node_defaults
from xlr_runtime.store.executions import Execution, ExecutionStatus

if TYPE_CHECKING:
    from xlr_runtime.clock import Clock
    from xlr_runtime.rundeck.keystore import KeyStore
    from xlr_runtime.rundeck.run.options import ResolvedOptions
    from xlr_runtime.scripting.masking import Masker
    from xlr_runtime.secrets import SecretBox
    from xlr_runtime.store import Store


class WorkflowHost(Protocol):
    """What a workflow needs of the service that runs it (:class:`xlr_runtime.rundeck.run.execution.ExecutionService`
    is the one that exists; a protocol keeps the workflow from importing the service that imports it)."""

    store: Store
    secrets: SecretBox
    keys: KeyStore
    clock: Clock
    home_root: Path
    server_node: Node
    capture_pattern: re.Pattern[str]

    def run_job_reference(self, run: WorkflowRun, step: JobRefStep, index: int, node: Node | None) -> StepResult:
        """Run a job-reference step as a child execution."""
        ...

    def run_plugin_step(
        self, run: WorkflowRun, step: PluginStep, index: int, node: Node | None, key: str
    ) -> StepResult:
        """Run a step-plugin or node-step-plugin step."""
        ...


class WorkflowLog(Protocol):
    """Where a workflow writes its execution's log (:class:`xlr_runtime.rundeck.run.execution.ExecutionLogWriter`)."""

    masker: Masker
    halted: bool

    def system(self, level: str, text: str, *, node: Node | None = None, step: int | None = None) -> None:
        """A line of the runtime's own."""
        ...

    def output(self, level: str, text: str, *, node: Node | None = None, step: int | None = None) -> bool:
        """A line a step printed; False once the log limit halts the execution."""
        ...


class WorkflowStopped(Exception):
    """Raised inside a run when a command was stopped by an abort, the job timeout or a log-limit halt."""

    def __init__(self, reason: StopReason) -> None:
        super().__init__(str(reason))
        self.reason = reason


@dataclass
class StepResult:
    """How one step ended on one node (or once, for a workflow step)."""

    ok: bool
    reason: str | None = None
    message: str | None = None
    exit_code: int | None = None

    @classmethod
    def of_command(cls, result: CommandResult) -> StepResult:
        """The result of a finished command (stopped commands raise :class:`WorkflowStopped` instead)."""
        if result.stopped is not None:
            raise WorkflowStopped(result.stopped)
        if result.exit_code == 0:
            return cls(ok=True, exit_code=0)
        return cls(
            ok=False, reason="NonZeroResultCode", message=f"Result: {result.exit_code}", exit_code=result.exit_code
        )


@dataclass(frozen=True)
class Outcome:
    """How a workflow ended."""

    status: ExecutionStatus
    failure: str | None = None
    succeeded_nodes: tuple[str, ...] = ()
    failed_nodes: tuple[str, ...] = ()


@dataclass
class StepCall:
    """What a pluggy-provided step type receives besides its configuration."""

    execution_id: int
    node: Node | None
    context: dict[str, dict[str, str]]
    log: Callable[[str], None]
    data: dict[str, str] = field(default_factory=dict)


class WorkflowRun:
    """Drives one execution (or a job-reference child) to its end in the calling thread."""

    def __init__(
        self,
        service: WorkflowHost,
        execution: Execution,
        job: Job,
        options: ResolvedOptions,
        log: WorkflowLog,
        *,
        deadline: float | None,
        context: DataContext,
        nodes_project: str | None = None,
        callers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.service = service
        #: The jobs whose job-reference steps led here, outermost first, as (identity, full name), this job last:
        #: a reference to any of them is a cycle (see :func:`job_identity`).
        self.chain = (*callers, (job_identity(execution.project, job), job.full_name))
        #: The project whose nodes the filter selects from (a job reference's ``childNodes``); default: its own.
        self.nodes_project = nodes_project or execution.project
        self.execution = execution
        self.job = job
        self.options = options
        self.log = log
        self.deadline = deadline
        self.context = context
        self.cursor: dict[str, Any] = dict(execution.cursor)
        self.lock = threading.RLock()
        limits = deadline_check(deadline, lambda: service.store.executions.abort_requested(execution.id))
        self.should_stop: StopCheck = lambda: StopReason.HALTED if log.halted else limits()
        #: The node-deferred secure option values of each node a node step ran on (read at its first one).
        self.node_defaults: dict[str, NodeDefaults] = {}
        secure = {k: v for k, v in options.values.items() if k in options.secure}
        self.remote = RemoteNodes(
            service.home_root,
            execution.project,
            execution_id=execution.id,
            expand=lambda text, node: expand(text, context, node=node),
            keys=service.keys,
            secure=lambda node: {**secure, **self.node_defaults.get(node, NodeDefaults()).values},
            on_secret=lambda found: log.masker.add(found),
        )

    # -- the whole workflow ------------------------------------------------------------------------------------

    def run(self) -> Outcome:
        """Run (or resume) the workflow and return how it ended; never raises for a step's failure. The
        connections to remote nodes are closed at the end."""
        try:
            return self._run()
        finally:
            self.remote.close()

    def _run(self) -> Outcome:
        try:
            nodes = self._nodes()
        except ClaimLostError:
            raise
        except (NodeFilterError, XlrError) as exc:
            self.log.system("ERROR", str(exc))
            return Outcome(ExecutionStatus.FAILED, failure=str(exc))
        if nodes is None:
            return Outcome(ExecutionStatus.FAILED, failure=self.cursor["failure"])
        steps = self.job.sequence.steps
        try:
            groups = plan([_is_node_step(step) for step in steps], self.job.sequence.strategy)
        except XlrError as exc:
            self.log.system("ERROR", str(exc))
            return Outcome(ExecutionStatus.FAILED, failure=str(exc))
        try:
            if self.job.sequence.strategy == PARALLEL:
                self._run_parallel(groups, nodes)
                return self._ended()
            for number in range(self.cursor.setdefault("group", 0), len(groups)):
                self._run_group(groups[number], nodes)
                with self.lock:
                    if self.cursor.get("halt"):
                        break
                    self.cursor.update(group=number + 1, positions={}, halt=False)
                    self._save()
        except WorkflowStopped as stop:
            return self._stopped(stop.reason)
        return self._ended()

    def _stopped(self, reason: StopReason) -> Outcome:
        failed = tuple(self.cursor.get("failed_nodes", []))
        if reason == StopReason.ABORTED:
            return Outcome(ExecutionStatus.ABORTED, failure="Aborted by user", failed_nodes=failed)
        if reason == StopReason.TIMEDOUT:
            return Outcome(ExecutionStatus.TIMEDOUT, failure="Execution timed out", failed_nodes=failed)
        status = self.job.log_limit_status or "failed"
        known = {"failed": ExecutionStatus.FAILED, "aborted": ExecutionStatus.ABORTED}
        return Outcome(
            known.get(status, ExecutionStatus.OTHER), failure="Log output limit exceeded", failed_nodes=failed
        )

    def _ended(self) -> Outcome:
        failed = tuple(self.cursor.get("failed_nodes", []))
        succeeded = tuple(n for n in self.cursor.get("nodes", []) if n not in failed)
        if self.cursor.get("workflow_failed"):
            reason = self.cursor.get("failure") or "Step failed"
            return Outcome(ExecutionStatus.FAILED, failure=reason, succeeded_nodes=succeeded, failed_nodes=failed)
        return Outcome(ExecutionStatus.SUCCEEDED, succeeded_nodes=succeeded, failed_nodes=failed)

    def _save(self) -> None:
        with self.lock:
            context = self.context.to_dict()
            # secure values (those read per node too) and data derived from them are only sealed at rest
            if self.options.secret_values() or self.options.deferred:
                context = self.service.secrets.seal_rows(context)
            self.service.store.executions.save_progress(
                self.execution.id, cursor=self.cursor, context=context, claim_token=self.execution.claim_token
            )

    # -- nodes -------------------------------------------------------------------------------------------------

    def _nodes(self) -> list[Node] | None:
        """The dispatch nodes (resolved once, then kept in the cursor); ``None`` when none match."""
        known = project_nodes(self.service.home_root, self.nodes_project, server=self.service.server_node)
        if "nodes" in self.cursor:
            return [known[name] if name in known else Node(name=name, source="?") for name in self.cursor["nodes"]]
        if not self.job.has_node_filter:
            selected = [self.service.server_node]
        else:
            dispatch = self.job.dispatch
            node_filter = combine_filters(
                self._expand_setting(self.job.node_filter), self._expand_setting(self.job.filter_exclude)
            )
            selected = select_nodes(known.values(), node_filter, exclude_precedence=dispatch.exclude_precedence)
            selected = order_nodes(selected, rank_attribute=dispatch.rank_attribute, rank_order=dispatch.rank_order)
        self.cursor["nodes"] = [node.name for node in selected]
        if not selected and not self.job.dispatch.success_on_empty_node_filter:
            self.cursor["failure"] = f"No nodes matched the filter: {self.job.node_filter}"
            self.log.system("ERROR", self.cursor["failure"])
            return None
        self._save()
        return selected

    def _expand_setting(self, text: str | None) -> str | None:
        return None if text is None else expand(text, self.context)

    def _threadcount(self) -> int:
        raw = expand(self.job.dispatch.threadcount or "1", self.context)
        count = whole_number(raw)
        if count is None:
            raise OptionValueError(f"threadcount {raw!r} is not a number")
        return max(1, count)

    # -- groups ------------------------------------------------------------------------------------------------

    def _run_group(self, group: StepGroup, nodes: list[Node], state: dict[str, Any] | None = None) -> None:
        """Run one group; ``state`` holds its node positions and failed nodes (the cursor itself, or a parallel
        branch of it)."""
        state = self.cursor if state is None else state
        if not group.node_steps:
            for index in group.steps:
                verdict = self._step_with_handler(index, None)
                self._after_step(None, verdict, state)
            return
        with self.lock:
            positions = state.setdefault("positions", {})
            pending = [n for n in nodes if positions.get(n.name, 0) < len(group.steps)]
        threadcount = self._threadcount()
        if threadcount == 1 or len(pending) < 2:
            for node in pending:
                if self._dispatch_stopped(state):
                    break
                self._run_on_node(group, node, state)
            return
        with ThreadPoolExecutor(max_workers=threadcount, thread_name_prefix="xlr-node") as pool:
            futures = [pool.submit(self._run_on_node, group, node, state) for node in pending]
        _raise_first([f.exception() for f in futures])

    def _run_parallel(self, groups: list[StepGroup], nodes: list[Node]) -> None:
        """Start every step not done yet at once, each in its own thread, and wait for all of them."""
        with self.lock:
            branches = self.cursor.setdefault("branches", {})
            pending = [g for g in groups if not branches.setdefault(str(g.steps[0]), {}).get("done")]
        if not pending:
            return
        with ThreadPoolExecutor(max_workers=len(pending), thread_name_prefix="xlr-step") as pool:
            futures = [pool.submit(self._run_branch, group, nodes, branches[str(group.steps[0])]) for group in pending]
        _raise_first([f.exception() for f in futures])

    def _run_branch(self, group: StepGroup, nodes: list[Node], branch: dict[str, Any]) -> None:
        self._run_group(group, nodes, branch)
        with self.lock:
            branch["done"] = True
            self._save()

    def _dispatch_stopped(self, state: dict[str, Any]) -> bool:
        """True once a node failed (in this group's ``state``) and dispatch keepgoing is off: no further node
        starts."""
        with self.lock:
            return bool(state.get("failed_nodes")) and not self.job.dispatch.keepgoing

    def _run_on_node(self, group: StepGroup, node: Node, state: dict[str, Any]) -> None:
        if self._dispatch_stopped(state):
            return
        positions = state["positions"]
        for position in range(positions.get(node.name, 0), len(group.steps)):
            verdict = self._step_with_handler(group.steps[position], node)
            with self.lock:
                positions[node.name] = position + 1
            self._after_step(node, verdict, state)
            if not verdict.proceed:
                break

    def _after_step(self, node: Node | None, verdict: StepVerdict, state: dict[str, Any]) -> None:
        with self.lock:
            if verdict.fails_workflow:
                self.cursor["workflow_failed"] = True
                for failures in {id(s): s for s in (self.cursor, state)}.values():
                    if node is not None and node.name not in failures.setdefault("failed_nodes", []):
                        failures["failed_nodes"].append(node.name)
                if node is not None and not self.job.dispatch.keepgoing:
                    self.cursor["halt"] = True
            if not verdict.proceed:
                self.cursor["halt"] = True
            self._save()

    # -- one step with its error handler ---------------------------------------------------------------------

    def _step_with_handler(self, index: int, node: Node | None) -> StepVerdict:
        step = self.job.sequence.steps[index]
        result = self._run_step(step, index, node, handler=False)
        handler_ok: bool | None = None
        handler = step.errorhandler
        if not result.ok:
            self.log.system(
                "ERROR", f"Step {index + 1} failed: {result.reason}: {result.message}", node=node, step=index
            )
            with self.lock:
                self.cursor["failure"] = self.log.masker.mask(
                    f"Step {index + 1} failed: {result.message or result.reason}"
                )
            if handler is not None:
                scope = node.name if node is not None else None
                self.context.merge(
                    "result",
                    {
                        "reason": result.reason or "",
                        "message": result.message or "",
                        "resultCode": "" if result.exit_code is None else str(result.exit_code),
                        "failedNodes": scope or "",
                    },
                    node=scope,
                )
                handler_ok = self._run_step(handler, index, node, handler=True).ok
        return step_verdict(
            step_ok=result.ok,
            handler_ok=handler_ok,
            keepgoing=self.job.sequence.keepgoing,
            keepgoing_on_success=bool(handler is not None and handler.keepgoing_on_success),
        )

    def _run_step(self, step: Step, index: int, node: Node | None, *, handler: bool) -> StepResult:
        """Run one step (or its error handler) on ``node``, its state kept in the cursor's ``steps`` (as Rundeck's
        execution state: running, then succeeded or failed, with times), saved as it starts (and with the
        cursor after it), so a follower of the execution sees each step start and end on each node."""
        key = f"{index + 1}{'/handler' if handler else ''}@{_name(node) or ''}"
        state = {"step": index + 1, "handler": handler, "node": _name(node), "description": step.description or None}
        with self.lock:
            self.cursor.setdefault("steps", {})[key] = {
                **state,
                "state": "running",
                "started": self.service.clock.now(),
            }
            self._save()
        result = self._step_result(step, index, node, handler=handler)
        with self.lock:
            self.cursor["steps"][key].update(
                state="succeeded" if result.ok else "failed", ended=self.service.clock.now(), reason=result.reason
            )
        return result

    def _step_result(self, step: Step, index: int, node: Node | None, *, handler: bool) -> StepResult:
        label = f"Error handler of step {index + 1}" if handler else f"Step {index + 1}"
        where = f" on {node.name}" if node is not None else ""
        self.log.system(
            "INFO" if step.description else "VERBOSE",
            f"{label}{': ' + step.description if step.description else ''}{where}",
            node=node,
            step=index,
        )
        if node is not None:
            self.context.merge("node", node.context(), node=node.name)
        try:
            if node is not None:
                self._read_node_defaults(node)
            result = self._dispatch(step, index, node, handler=handler)
        except (WorkflowStopped, ClaimLostError):  # stopped; or the execution is another runtime's now
            raise
        except NodeExecutorError as exc:
            result = StepResult(ok=False, reason="UnsupportedNodeExecutor", message=str(exc))
        except NodeConnectionError as exc:
            result = StepResult(ok=False, reason=exc.reason, message=str(exc))
        except XlrError as exc:
            result = StepResult(ok=False, reason="StepFailure", message=str(exc))
        scope = node.name if node is not None else None
        if result.exit_code is not None:
            self.context.put("exec", "exitCode", str(result.exit_code), node=scope, step=index + 1)
        return result

    def _read_node_defaults(self, node: Node) -> None:
        """Read the node-deferred secure options of ``node`` at its first node step (masked from then on, the
        exposed ones in the node's ``option.*`` and ``secureOption.*``, a warning per option that could not be
        read); raise :class:`OptionValueError` for a required one that could not be, at each of its steps."""
        if not self.options.deferred:
            return
        with self.lock:  # once per node, whichever of its steps' threads comes first
            found = self.node_defaults.get(node.name)
            if found is None:
                found = read_node_defaults(
                    self.job.options,
                    self.options,
                    job=self.context.flatten().get("job", {}),
                    node=node,
                    read_password=self.service.keys.read_password,
                )
                self.log.masker.add(found.values.values())
                exposed = {k: v for k, v in found.values.items() if k in self.options.exposed}
                for ctx in ("option", "secureOption"):
                    self.context.merge(ctx, exposed, node=node.name)
                for warning in found.warnings:
                    self.log.system("WARN", warning, node=node)
                self.node_defaults[node.name] = found
        if found.failure is not None:
            raise found.failure

    def _dispatch(self, step: Step, index: int, node: Node | None, *, handler: bool) -> StepResult:
        if isinstance(step, ExecStep):
            command = expand_command(step.command, self.context, node=_name(node))
            return self._command(command, index, node, capture=capture_pattern(step, self.service.capture_pattern))
        if isinstance(step, ScriptStep):
            return self._script(step, index, node)
        if isinstance(step, JobRefStep):
            return self.service.run_job_reference(self, step, index, node)
        if isinstance(step, PluginStep):
            key = f"{'h' if handler else 's'}{index}:{_name(node) or ''}"
            return self.service.run_plugin_step(self, step, index, node, key)
        return StepResult(ok=False, reason="UnsupportedStep", message=f"step type {type(step).__name__} cannot run")

    # -- commands and scripts --------------------------------------------------------------------------------

    def _line_sink(self, index: int, node: Node | None, pattern: re.Pattern[str]) -> LineSink:
        """Where a command's output lines go: data capture in the node's scope, then the log."""
        scope = _name(node)

        def on_line(level: str, text: str) -> bool:
            captured = capture_data(text, pattern) if level == "NORMAL" else None
            if captured is not None:
                self.context.put("data", captured[0], captured[1], node=scope)
            return self.log.output(level, text, node=node, step=index)

        return on_line

    def _command(self, command: str, index: int, node: Node | None, *, capture: re.Pattern[str]) -> StepResult:
        """Run a command line on ``node``: over SSH for a remote node, else here."""
        on_line = self._line_sink(index, node, capture)
        env = environment(self.context, node=_name(node))
        if node is not None and self.remote.is_remote(node):
            result = self.remote.run(node, command, env=env, on_line=on_line, should_stop=self.should_stop)
        else:
            result = run_shell(command, env=env, on_line=on_line, should_stop=self.should_stop)
        return StepResult.of_command(result)

    def _script(self, step: ScriptStep, index: int, node: Node | None) -> StepResult:
        scope = _name(node)
        remote = node is not None and self.remote.is_remote(node)
        if step.kind == ScriptKind.SCRIPTFILE and not remote:  # the server's file runs as it is
            return self._run_script_file(step, index, node, expand(step.source, self.context, node=scope))
        try:
            data = self._script_bytes(step, scope)
        except requests.RequestException as exc:
            return StepResult(ok=False, reason="IOFailure", message=f"scripturl could not be read: {exc}")
        except OSError as exc:
            return StepResult(ok=False, reason="IOFailure", message=f"scriptfile could not be read: {exc}")
        if node is not None and remote:
            return self._run_remote_script(step, index, node, data)
        path = str(write_script(data, suffix=step.file_extension))
        try:
            return self._run_script_file(step, index, node, path)
        finally:
            _unlink(path)

    def _script_bytes(self, step: ScriptStep, scope: str | None) -> bytes:
        """The content of a script step: inline with ``@…@`` tokens replaced, fetched (scripturl), or the
        server's file as it is (scriptfile, to copy to a remote node)."""
        if step.kind == ScriptKind.SCRIPT:
            return replace_script_tokens(step.source, self.context, node=scope).encode("utf-8")
        if step.kind == ScriptKind.SCRIPTFILE:
            return Path(expand(step.source, self.context, node=scope)).read_bytes()
        return fetch_script(expand(step.source, self.context, node=scope)).encode("utf-8")

    def _script_command(self, step: ScriptStep, path: str, scope: str | None) -> str:
        return script_command(
            path, step.args, self.context, node=scope, interpreter=step.interpreter, args_quoted=step.args_quoted
        )

    def _run_script_file(self, step: ScriptStep, index: int, node: Node | None, path: str) -> StepResult:
        command = self._script_command(step, path, _name(node))
        return self._command(command, index, node, capture=capture_pattern(step, self.service.capture_pattern))

    def _run_remote_script(self, step: ScriptStep, index: int, node: Node, data: bytes) -> StepResult:
        """Copy the script to the node, run it there with its interpreter and arguments, remove it."""
        on_line = self._line_sink(index, node, capture_pattern(step, self.service.capture_pattern))
        result = self.remote.run_script(
            node,
            data,
            extension=step.file_extension,
            command=lambda path: self._script_command(step, path, node.name),
            env=environment(self.context, node=node.name),
            on_line=on_line,
            should_stop=self.should_stop,
        )
        return StepResult.of_command(result)


def job_identity(project: str, job: Job) -> str:
    """What makes two references name the same job: its uuid, else its project and full name."""
    return job.uuid or job.id or f"{project}/{job.full_name}"


def capture_pattern(step: Step, default: re.Pattern[str]) -> re.Pattern[str]:
    """The data-capture pattern of a step: the regex of its ``key-value-data`` log filter, else ``default``."""
    plugins = step.plugins
    for element in plugins.children if plugins is not None else ():
        if element.tag == "LogFilter" and dict(element.attributes).get("type") == "key-value-data":
            for config in (c for c in element.children if c.tag == "config"):
                for regex in (r for r in config.children if r.tag == "regex" and r.text):
                    return re.compile(regex.text or "")
    return default


def _raise_first(errors: list[BaseException | None]) -> None:
    """Re-raise what threads raised: a :class:`WorkflowStopped` first (abort, timeout, halt), else the first."""
    raised = [e for e in errors if e is not None]
    stops = [e for e in raised if isinstance(e, WorkflowStopped)]
    if stops or raised:
        raise (stops or raised)[0]


def _is_node_step(step: Step) -> bool:
    if isinstance(step, (JobRefStep, PluginStep)):
        return step.node_step
    return True


def _name(node: Node | None) -> str | None:
    return None if node is None else node.name


def _unlink(path: str) -> None:
    Path(path).unlink(missing_ok=True)
