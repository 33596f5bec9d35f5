"""Workflow control as pure functions: what a step failure means (Rundeck's errorhandler / keepgoing /
keepgoingOnSuccess table, ``BaseWorkflowExecutor.executeWorkflowStep``) and in which order steps meet nodes
(node-first, step-first and parallel strategies).

==========  =======  =========  ==================  ===========  =========  ==========
step        handler  keepgoing  keepgoingOnSuccess  step result  continue   job
==========  =======  =========  ==================  ===========  =========  ==========
fail        none     false      any                 fail         stop       failed
fail        none     true       any                 fail         yes        failed
fail        ok       true       any                 ok           yes        unaffected
fail        fail     true       any                 fail         yes        failed
fail        ok       false      true                ok           yes        unaffected
fail        ok       false      false               fail         stop       failed
fail        fail     false      any                 fail         stop       failed
==========  =======  =========  ==================  ===========  =========  ==========
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xlr_runtime.errors import StateError

#: Strategies that run here; ``sequential`` is Rundeck's other name for ``step-first``.
STRATEGIES = ("node-first", "step-first", "sequential", "parallel")
#: Rundeck's parallel strategy: every step starts when the workflow starts (``ParallelWorkflowStrategy``).
PARALLEL = "parallel"
#: Strategies of Rundeck Enterprise (PagerDuty Process Automation) only, refused with that reason.
ENTERPRISE_STRATEGIES = ("ruleset",)


@dataclass(frozen=True)
class StepVerdict:
    """What one step's outcome means for the workflow."""

    #: The step's own result after its error handler (the handler's success replaces the failure).
    succeeded: bool
    #: Whether the workflow goes on to the next step.
    proceed: bool
    #: Whether this step makes the whole workflow fail.
    fails_workflow: bool


def step_verdict(
    *, step_ok: bool, handler_ok: bool | None, keepgoing: bool, keepgoing_on_success: bool = False
) -> StepVerdict:
    """Apply Rundeck's table: ``handler_ok`` is ``None`` when the step has no error handler (or the handler
    did not run because the step succeeded)."""
    if step_ok:
        return StepVerdict(succeeded=True, proceed=True, fails_workflow=False)
    if handler_ok is None or not handler_ok:
        return StepVerdict(succeeded=False, proceed=keepgoing, fails_workflow=True)
    if keepgoing or keepgoing_on_success:
        return StepVerdict(succeeded=True, proceed=True, fails_workflow=False)
    return StepVerdict(succeeded=False, proceed=False, fails_workflow=True)


@dataclass(frozen=True)
class StepGroup:
    """Steps dispatched together: node steps go to every node (each node runs all of ``steps`` in turn);
    a workflow step runs once."""

    steps: tuple[int, ...]
    node_steps: bool


def plan(node_step_flags: Sequence[bool], strategy: str = "node-first") -> list[StepGroup]:
    """Group step indexes (0-based) for dispatch.

    ``node-first``: each run of consecutive node steps is one group (every node runs the whole run before the
    workflow moves on), workflow steps alone between them. ``step-first``/``sequential``: one group per step,
    each finishing on every node before the next starts. ``parallel``: one group per step too, but all groups
    run at the same time (the caller starts them together). Another strategy raises :class:`StateError`.
    """
    if strategy in ENTERPRISE_STRATEGIES:
        raise StateError(
            f"workflow strategy {strategy!r} is a Rundeck Enterprise (Process Automation) feature and is not "
            "supported (use node-first, step-first or parallel)"
        )
    if strategy not in STRATEGIES:
        raise StateError(f"workflow strategy {strategy!r} is not supported (use node-first, step-first or parallel)")
    groups: list[StepGroup] = []
    for index, is_node_step in enumerate(node_step_flags):
        previous = groups[-1] if groups else None
        if strategy == "node-first" and is_node_step and previous is not None and previous.node_steps:
            groups[-1] = StepGroup(steps=(*previous.steps, index), node_steps=True)
        else:
            groups.append(StepGroup(steps=(index,), node_steps=is_node_step))
    return groups


def dispatch_order(groups: Sequence[StepGroup], nodes: Sequence[str]) -> list[tuple[int, str | None]]:
    """``(step index, node)`` pairs in the order one thread runs them (``None`` for a workflow step)."""
    order: list[tuple[int, str | None]] = []
    for group in groups:
        if not group.node_steps:
            order += [(step, None) for step in group.steps]
            continue
        order += [(step, node) for node in nodes for step in group.steps]
    return order
