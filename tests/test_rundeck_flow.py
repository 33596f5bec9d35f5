"""Rundeck's step-failure table row by row, and the node-first / step-first / parallel dispatch plans."""

from __future__ import annotations

import pytest

from xlr_runtime.errors import StateError
from xlr_runtime.rundeck.run.flow import StepGroup, StepVerdict, dispatch_order, plan, step_verdict

OK_CONTINUE = StepVerdict(succeeded=True, proceed=True, fails_workflow=False)
FAIL_STOP = StepVerdict(succeeded=False, proceed=False, fails_workflow=True)
FAIL_CONTINUE = StepVerdict(succeeded=False, proceed=True, fails_workflow=True)


@pytest.mark.parametrize(
    ("handler_ok", "keepgoing", "keepgoing_on_success", "verdict"),
    [
        (None, False, False, FAIL_STOP),
        (None, True, False, FAIL_CONTINUE),
        (True, True, False, OK_CONTINUE),
        (True, True, True, OK_CONTINUE),
        (False, True, False, FAIL_CONTINUE),
        (False, True, True, FAIL_CONTINUE),
        (True, False, True, OK_CONTINUE),
        (True, False, False, FAIL_STOP),
        (False, False, False, FAIL_STOP),
        (False, False, True, FAIL_STOP),
    ],
)
def test_failed_step_table(
    handler_ok: bool | None, keepgoing: bool, keepgoing_on_success: bool, verdict: StepVerdict
) -> None:
    assert (
        step_verdict(
            step_ok=False, handler_ok=handler_ok, keepgoing=keepgoing, keepgoing_on_success=keepgoing_on_success
        )
        == verdict
    )


@pytest.mark.parametrize("keepgoing", [True, False])
def test_successful_step_always_continues(keepgoing: bool) -> None:
    assert step_verdict(step_ok=True, handler_ok=None, keepgoing=keepgoing) == OK_CONTINUE


def test_node_first_groups_runs_of_node_steps() -> None:
    groups = plan([True, True, False, True], "node-first")
    assert groups == [
        StepGroup(steps=(0, 1), node_steps=True),
        StepGroup(steps=(2,), node_steps=False),
        StepGroup(steps=(3,), node_steps=True),
    ]
    assert dispatch_order(groups, ["a", "b"]) == [(0, "a"), (1, "a"), (0, "b"), (1, "b"), (2, None), (3, "a"), (3, "b")]


@pytest.mark.parametrize("strategy", ["step-first", "sequential"])
def test_step_first_finishes_each_step_on_all_nodes(strategy: str) -> None:
    groups = plan([True, True, False], strategy)
    assert dispatch_order(groups, ["a", "b"]) == [(0, "a"), (0, "b"), (1, "a"), (1, "b"), (2, None)]


def test_parallel_plans_one_group_per_step() -> None:
    assert plan([True, False, True], "parallel") == [
        StepGroup(steps=(0,), node_steps=True),
        StepGroup(steps=(1,), node_steps=False),
        StepGroup(steps=(2,), node_steps=True),
    ]


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        (
            "ruleset",
            "workflow strategy 'ruleset' is a Rundeck Enterprise (Process Automation) feature and is not supported "
            "(use node-first, step-first or parallel)",
        ),
        ("random", "workflow strategy 'random' is not supported (use node-first, step-first or parallel)"),
    ],
)
def test_unsupported_strategy(strategy: str, message: str) -> None:
    with pytest.raises(StateError) as info:
        plan([True], strategy)
    assert str(info.value) == message
