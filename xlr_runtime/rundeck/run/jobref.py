"""How a job reference step changes the nodes its child execution runs on (Rundeck's job reference overrides).

- ``<nodefilters><filter>`` on the reference replaces the child job's filter. It is expanded in the **parent's**
  context first, so ``name: ${node.name}`` in a node-step reference names the parent's current node, and
  ``${option.x}`` is the parent's option.
- ``<dispatch>`` on the reference (``threadcount``, ``keepgoing``, ``rankAttribute``, ``rankOrder``) goes with
  that filter: with an overriding filter, the child dispatches with these settings (``threadcount`` 1,
  ``keepgoing`` false and ascending order when not given); without one, the child keeps its own dispatch, as in
  Rundeck, whose editor only offers the dispatch settings together with the filter.
- A referenced job whose executions are disabled (``executionEnabled`` false) is skipped — the step succeeds —
  unless the reference has ``failOnDisable``; then the step fails (Rundeck 2.11's behaviour).
- The referenced job is found by its uuid, else by group and name; with ``useName`` by group and name even when
  the reference also carries a uuid (Rundeck's "use the job's name" choice, in exports of other servers).
- ``childNodes`` matters for a reference to a job of **another project**: the child's nodes come from the
  parent's project, unless ``childNodes`` is true ("use the referenced job's nodes"), then from the child's.
"""

from __future__ import annotations

from dataclasses import replace

from xlr_runtime.rundeck.jobs.model import Dispatch, Job, JobRefStep
from xlr_runtime.rundeck.run.context import DataContext, expand
from xlr_runtime.rundeck.run.workflow import StepResult


def with_node_overrides(child: Job, step: JobRefStep, context: DataContext, *, node: str | None) -> Job:
    """``child`` as the reference runs it: its node filter and dispatch replaced by the step's overrides."""
    if not step.node_filter:
        return child
    overrides = step.dispatch
    threadcount = overrides.threadcount if overrides is not None else None
    dispatch = Dispatch(
        threadcount=expand(threadcount, context, node=node) if threadcount else "1",
        keepgoing=bool(overrides is not None and overrides.keepgoing),
        exclude_precedence=child.dispatch.exclude_precedence,
        rank_attribute=overrides.rank_attribute if overrides is not None else None,
        rank_order="descending" if overrides is not None and overrides.rank_order == "descending" else "ascending",
        success_on_empty_node_filter=child.dispatch.success_on_empty_node_filter,
    )
    node_filter = expand(step.node_filter, context, node=node)
    return replace(child, node_filter=node_filter, filter_exclude=None, dispatch=dispatch)


def nodes_project(step: JobRefStep, *, parent_project: str, child_project: str) -> str:
    """The project whose nodes the child's filter selects from (``childNodes``, see the module docstring)."""
    return child_project if step.child_nodes else parent_project


def disabled_result(child: Job, step: JobRefStep) -> StepResult | None:
    """How the step ends when the referenced job has its executions disabled; ``None`` when it may run."""
    if child.execution_enabled:
        return None
    if step.fail_on_disable:
        return StepResult(ok=False, reason="JobDisabled", message=f"job {child.full_name} has executions disabled")
    return StepResult(ok=True, message=f"job {child.full_name} has executions disabled: skipped")


def lookup_uuid(step: JobRefStep) -> str | None:
    """The uuid to find the referenced job by: ``None`` (group and name) with ``useName``, else the step's."""
    return None if step.use_name and step.name else step.uuid
