"""Rundeck's execution state (``GET /api/{version}/execution/{id}/state``): the workflow's overall state, each
step's state on each node, and each node's state per step, in Rundeck's JSON and XML.

It is read from what the workflow saves after every step on every node (the execution's ``cursor``: the dispatch
nodes, per step and node ``running``/``succeeded``/``failed`` with times, and the executions its job references
started) and from the job definition the execution ran (its step count, which steps are node steps). A step that
runs once rather than per node (a job reference or a workflow step plugin) has no ``nodeStates``; a job reference
run once nests its child's workflow (``hasSubworkflow``, ``workflow``, steps ``2/1``…), as Rundeck shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree
from starlette.requests import Request
from starlette.responses import Response

from xlr_runtime.http.context import context_of
from xlr_runtime.http.rundeck.common import iso_time
from xlr_runtime.http.rundeck.xmlforms import answer, element, leaves, node_names
from xlr_runtime.rundeck.jobs.model import JobRefStep, PluginStep, Step
from xlr_runtime.rundeck.jobs.xml_codec import load_jobs_xml
from xlr_runtime.rundeck.nodes.resources import local_node
from xlr_runtime.store.executions import Execution, ExecutionStatus

#: The overall state of an execution by its status.
_EXECUTION_STATES = {
    ExecutionStatus.QUEUED: "WAITING",
    ExecutionStatus.RUNNING: "RUNNING",
    ExecutionStatus.SUCCEEDED: "SUCCEEDED",
    ExecutionStatus.FAILED: "FAILED",
    ExecutionStatus.FAILED_WITH_RETRY: "FAILED",
    ExecutionStatus.ABORTED: "ABORTED",
    ExecutionStatus.TIMEDOUT: "ABORTED",
    ExecutionStatus.OTHER: "FAILED",
}


def is_node_step(step: Step) -> bool:
    """True for a step that runs once on each target node (Rundeck's ``nodeStep``)."""
    if isinstance(step, JobRefStep | PluginStep):
        return step.node_step
    return True


@dataclass(frozen=True)
class NodeState:
    """One step on one node: its Rundeck state and times (epoch seconds)."""

    state: str
    started: float | None
    ended: float | None

    def to_json(self) -> dict[str, Any]:
        """Rundeck's node state object."""
        return {
            "executionState": self.state,
            "startTime": _time(self.started),
            "updateTime": _time(self.ended or self.started),
            "endTime": _time(self.ended),
        }


def _time(epoch: float | None) -> str | None:
    return None if epoch is None else iso_time(epoch)


def _node_state(
    entry: dict[str, Any] | None, handler: dict[str, Any] | None, ended: ExecutionStatus | None
) -> NodeState:
    """The state of one step on one node from its cursor entries (the step's and its error handler's); ``ended``
    is the execution's final status, which turns what never finished into ``ABORTED`` or ``NOT_STARTED``."""
    if entry is None:
        return NodeState("NOT_STARTED" if ended is not None else "WAITING", None, None)
    state = {"running": "RUNNING", "succeeded": "SUCCEEDED", "failed": "FAILED"}[entry["state"]]
    finish = entry.get("ended")
    if handler is not None and handler["state"] == "running":
        state = "RUNNING_HANDLER"
    elif handler is not None:
        finish = handler.get("ended") or finish
    if state in ("RUNNING", "RUNNING_HANDLER") and ended is not None:
        state = "ABORTED"
    return NodeState(state, entry.get("started"), finish)


def _overall(states: list[NodeState]) -> str:
    """A step's state from its nodes' states (Rundeck's ``NODE_PARTIAL_SUCCEEDED`` and ``NODE_MIXED`` included)."""
    kinds = {state.state for state in states}
    if not kinds:
        return "WAITING"
    if len(kinds) == 1:
        return kinds.pop()
    for running in ("RUNNING_HANDLER", "RUNNING"):
        if running in kinds:
            return running
    if kinds == {"SUCCEEDED", "FAILED"} or kinds == {"SUCCEEDED", "NOT_STARTED"}:
        return "NODE_PARTIAL_SUCCEEDED"
    return "NODE_MIXED"


#: Reads an execution by id (a job reference's child, for its sub-workflow).
ChildReader = Callable[[int], Execution]


def _step_state(
    execution: Execution, index: int, step: Step, prefix: str, read_child: ChildReader
) -> tuple[dict[str, Any], dict[str, list[dict[str, str]]]]:
    """One step's state (``prefix`` is the step context of the workflow it belongs to, ``2/`` in a job reference
    of step 2), and each node's entries for it and its sub-steps."""
    recorded: dict[str, dict[str, Any]] = execution.cursor.get("steps", {})
    ended = execution.status if execution.status.is_final else None
    stepctx = f"{prefix}{index}"
    per_node: dict[str, list[dict[str, str]]] = {}
    shown: dict[str, Any] = {"id": str(index), "stepctx": stepctx, "nodeStep": is_node_step(step)}
    if is_node_step(step):
        states = {
            node: _node_state(recorded.get(f"{index}@{node}"), recorded.get(f"{index}/handler@{node}"), ended)
            for node in execution.cursor.get("nodes", [])
        }
        for node, state in states.items():
            per_node.setdefault(node, []).append({"executionState": state.state, "stepctx": stepctx})
        shown["nodeStates"] = {node: state.to_json() for node, state in states.items()}
        overall = _overall(list(states.values()))
    else:
        own = _node_state(recorded.get(f"{index}@"), recorded.get(f"{index}/handler@"), ended)
        states, overall = {"": own}, own.state
    starts = [s.started for s in states.values() if s.started is not None]
    ends = [s.ended for s in states.values() if s.ended is not None]
    done = overall not in ("WAITING", "RUNNING", "RUNNING_HANDLER")
    shown |= {
        "executionState": overall,
        "startTime": _time(min(starts, default=None)),
        "updateTime": _time(max(ends + starts, default=None)),
        "endTime": _time(max(ends, default=None)) if done else None,
    }
    child_id = execution.cursor.get("children", {}).get(f"{index}@")
    if isinstance(step, JobRefStep) and child_id is not None:
        workflow, child_nodes = _workflow(read_child(child_id), f"{stepctx}/", read_child)
        shown |= {"hasSubworkflow": True, "workflow": workflow}
        for node, entries in child_nodes.items():
            per_node.setdefault(node, []).extend(entries)
    return shown, per_node


def _workflow(
    execution: Execution, prefix: str, read_child: ChildReader
) -> tuple[dict[str, Any], dict[str, list[dict[str, str]]]]:
    """A workflow section of the state (``stepCount``, ``targetNodes``, ``steps``, …), and each node's entries."""
    (job,) = load_jobs_xml(execution.job_xml, path=f"store:executions/{execution.id}", require_future=False)
    targets = list(execution.cursor.get("nodes", []))
    recorded: dict[str, dict[str, Any]] = execution.cursor.get("steps", {})
    steps: list[dict[str, Any]] = []
    per_node: dict[str, list[dict[str, str]]] = {name: [] for name in targets}
    for index, step in enumerate(job.sequence.steps, start=1):
        shown, entries = _step_state(execution, index, step, prefix, read_child)
        steps.append(shown)
        for node, listed in entries.items():
            per_node.setdefault(node, []).extend(listed)
    started = execution.started_at
    updated = execution.ended_at or max([started or 0.0, *_times(recorded)])
    section = {
        "executionState": _EXECUTION_STATES[execution.status],
        "completed": execution.status.is_final,
        "startTime": _time(started),
        "updateTime": _time(updated or None),
        "endTime": _time(execution.ended_at),
        "stepCount": len(job.sequence.steps),
        "allNodes": sorted(set(targets) | set(per_node)),
        "targetNodes": targets,
        "steps": steps,
    }
    return section, per_node


def execution_state(execution: Execution, read_child: ChildReader) -> dict[str, Any]:
    """The execution's state in Rundeck's JSON form; ``read_child`` reads the executions its job references
    started, whose workflows are nested in the steps that ran them."""
    section, per_node = _workflow(execution, "", read_child)
    server = local_node().name  # the node the execution service runs workflow steps on
    return {"executionId": execution.id, "serverNode": server, **section, "nodes": per_node}


def _times(recorded: dict[str, dict[str, Any]]) -> list[float]:
    return [t for entry in recorded.values() for t in (entry.get("started"), entry.get("ended")) if t is not None]


_TIMES = ("startTime", "updateTime", "endTime", "executionState")


def _workflow_xml(root: etree._Element, section: dict[str, Any]) -> etree._Element:
    """Add a workflow section's elements to ``root``."""
    leaves(root, {key: section[key] for key in ("startTime", "updateTime", "stepCount")})
    root.extend([node_names("allNodes", section["allNodes"]), node_names("targetNodes", section["targetNodes"])])
    leaves(root, {key: section.get(key) for key in ("executionId", "serverNode")})
    leaves(root, {key: section[key] for key in ("endTime", "executionState", "completed")})
    steps = element("steps")
    for step in section["steps"]:
        shown = leaves(element("step", {"stepctx": step["stepctx"], "id": step["id"]}), {"nodeStep": step["nodeStep"]})
        leaves(shown, {key: step[key] for key in _TIMES} | {"hasSubworkflow": step.get("hasSubworkflow")})
        if "nodeStates" in step:
            node_states = element("nodeStates")
            for name, node in step["nodeStates"].items():
                node_states.append(leaves(element("nodeState", {"name": name}), {key: node[key] for key in _TIMES}))
            shown.append(node_states)
        if "workflow" in step:
            shown.append(_workflow_xml(element("workflow"), step["workflow"]))
        steps.append(shown)
    root.append(steps)
    return root


def state_xml(state: dict[str, Any]) -> etree._Element:
    """Rundeck's XML form of :func:`execution_state`."""
    root = _workflow_xml(element("executionState", {"id": state["executionId"]}), state)
    nodes = element("nodes")
    for name, entries in state["nodes"].items():
        listed = element("steps", None, *(leaves(element("step"), entry) for entry in entries))
        nodes.append(element("node", {"name": name}, listed))
    root.append(nodes)
    return root


def state_answer(request: Request, execution: Execution) -> Response:
    """The state of ``execution`` in the form the request asks for."""
    state = execution_state(execution, context_of(request).store.executions.get)
    return answer(request, state, lambda: state_xml(state))
