"""Contract tests of the executions area (behaviour only, so another backend can run them unchanged).

The ``store`` fixture (tests/conftest.py) opens a fresh store on every backend of ``STORE_BACKENDS``.
"""

from __future__ import annotations

import pytest

from xlr_runtime.errors import NotFoundError, StateError
from xlr_runtime.store import Store
from xlr_runtime.store.executions import ExecutionQuery, ExecutionStatus

T0 = 1_700_000_000.0


def new(store: Store, **overrides: object) -> int:
    fields: dict[str, object] = {
        "project": "P",
        "job_id": "uuid-1",
        "job_name": "deploy",
        "job_group": "ops",
        "job_xml": "<joblist/>",
        "options": {"env": "prod", "pw": "*****"},
        "arg_string": "-env prod -pw *****",
        "user": "admin",
        "now": T0,
    }
    fields.update(overrides)
    return store.executions.create(**fields).id  # type: ignore[arg-type]


def test_create_get_list(store: Store) -> None:
    first = new(store)
    second = new(store, project="Q", job_id="uuid-2")
    execution = store.executions.get(first)
    assert execution.status == ExecutionStatus.QUEUED
    assert execution.job_full_name == "ops/deploy"
    assert execution.options == {"env": "prod", "pw": "*****"}
    assert execution.to_json()["status"] == "queued"
    assert [e.id for e in store.executions.list()] == [second, first]
    assert [e.id for e in store.executions.list(project="P")] == [first]
    with pytest.raises(NotFoundError, match=r"^no execution 99$"):
        store.executions.get(99)


def test_summaries_list_top_level_executions_newest_first_and_count_them(store: Store) -> None:
    first = new(store)
    child = new(store, parent_id=first)
    second = new(store, project="Q", job_id="uuid-2")
    third = new(store)
    new(store, parent_id=third)
    assert [e.id for e in store.executions.summaries()] == [third, second, first]
    assert [e.id for e in store.executions.summaries(limit=2)] == [third, second]
    assert [e.id for e in store.executions.summaries(project="P", limit=5)] == [third, first]
    assert (store.executions.count(), store.executions.count(project="P"), store.executions.count(project="R")) == (
        3,
        2,
        0,
    )
    (summary,) = store.executions.summaries(project="Q")
    full = store.executions.get(second)
    assert summary.to_json() == full.to_json()
    assert (summary.job_full_name, summary.shown_status) == (full.job_full_name, full.shown_status)
    assert child not in [e.id for e in store.executions.summaries()]


def test_exclusive_create_refuses_a_second_active_execution(store: Store) -> None:
    first = new(store, exclusive=True)
    with pytest.raises(StateError) as info:
        new(store, exclusive=True)
    assert str(info.value) == (
        f"job 'ops/deploy' is already running (execution {first}) and does not allow multiple executions"
    )
    store.executions.finish(first, status=ExecutionStatus.SUCCEEDED, now=T0 + 1)
    assert new(store, exclusive=True) > first


def test_claim_due_progress_finish(store: Store) -> None:
    later = new(store, due_at=T0 + 60)
    now = new(store)
    claimed = store.executions.claim_due(T0, owner="me", limit=5)
    assert [e.id for e in claimed] == [now]
    assert claimed[0].status == ExecutionStatus.RUNNING and claimed[0].started_at == T0
    assert store.executions.next_due_at() == T0 + 60
    store.executions.save_progress(now, cursor={"group": 1}, context=[{"step": None}], deadline_at=T0 + 5)
    execution = store.executions.get(now)
    assert (execution.cursor, execution.deadline_at) == ({"group": 1}, T0 + 5)
    done = store.executions.finish(now, status=ExecutionStatus.FAILED, now=T0 + 2, failed_nodes=["n1"], failure="x")
    assert (done.status, done.failed_nodes, done.ended_at, done.failure) == (
        ExecutionStatus.FAILED,
        ["n1"],
        T0 + 2,
        "x",
    )
    assert [e.id for e in store.executions.claim_due(T0 + 60, owner="me", limit=5)] == [later]
    with pytest.raises(StateError, match=r"^queued is not a final status$"):
        store.executions.finish(later, status=ExecutionStatus.QUEUED, now=T0)


def test_abort(store: Store) -> None:
    queued = new(store, due_at=T0 + 60)
    assert store.executions.request_abort(queued, now=T0).status == ExecutionStatus.ABORTED
    running = new(store)
    store.executions.claim_due(T0, owner="me", limit=1)
    assert store.executions.request_abort(running, now=T0).abort_requested
    assert store.executions.abort_requested(running)
    child = new(store, parent_id=running)
    assert store.executions.abort_requested(child)
    with pytest.raises(StateError) as info:
        store.executions.request_abort(queued, now=T0)
    assert str(info.value) == f"execution {queued} has already ended (aborted)"


def test_requeue_running_keeps_the_cursor(store: Store) -> None:
    parent = new(store)
    store.executions.claim_due(T0, owner="dead", limit=1)
    store.executions.save_progress(parent, cursor={"group": 2}, context=[])
    child = new(store, parent_id=parent)
    store.executions.start_child(child, owner="dead", now=T0)
    assert store.executions.running_owners() == ["dead"]
    assert store.executions.requeue_running(now=T0 + 10, owners=["alive"]) == []
    requeued = store.executions.requeue_running(now=T0 + 10, owners=["dead"])
    assert [(e.id, e.status, e.cursor, e.restarts, e.due_at) for e in requeued] == [
        (parent, ExecutionStatus.QUEUED, {"group": 2}, 1, T0 + 10)
    ]
    assert store.executions.get(child).status == ExecutionStatus.ABORTED


def test_log(store: Store) -> None:
    execution = new(store)
    store.executions.add_log(execution, [(T0, "NORMAL", "n1", "1", "hello"), (T0, "ERROR", None, None, "bad")])
    lines = store.executions.log(execution)
    assert [(line.node, line.step, line.text) for line in lines] == [("n1", "1", "hello"), (None, None, "bad")]
    assert [line.text for line in store.executions.log(execution, after=lines[0].id)] == ["bad"]


def test_an_execution_query_keeps_what_each_field_says(store: Store) -> None:
    deploy = new(store)
    store.executions.finish(deploy, status=ExecutionStatus.SUCCEEDED, now=T0 + 10)
    report = new(store, job_id="uuid-2", job_name="re_port", job_group="batch/nightly", user="cron",
                 execution_type="scheduled")  # fmt: skip
    store.executions.finish(report, status=ExecutionStatus.FAILED, now=T0 + 20)
    halted = new(store, job_id="uuid-3", job_name="top", job_group=None)
    store.executions.finish(halted, status=ExecutionStatus.FAILED, now=T0 + 30, custom_status="log limit")
    running = new(store, job_id="uuid-3", job_name="top", job_group=None)
    adhoc = new(store, job_id=None, job_name="adhoc", job_group=None)
    new(store, project="Q")
    new(store, parent_id=deploy)

    def kept(**fields: object) -> list[int]:
        query = ExecutionQuery(project="P", **fields)  # type: ignore[arg-type]
        found = [e.id for e in store.executions.summaries(query=query)]
        assert store.executions.count(query=query) == len(found)
        return sorted(found)

    assert kept() == sorted([deploy, report, halted, running, adhoc])
    assert kept(job_ids=("uuid-3",)) == [halted, running]
    assert kept(exclude_job_ids=("uuid-1", "uuid-3")) == [report, adhoc]
    assert kept(job_names=("batch/nightly/re_port", "top")) == [report, halted, running]
    assert kept(exclude_job_names=("ops/deploy",)) == [report, halted, running, adhoc]
    assert kept(group="batch") == [report] and kept(group="batch/night") == []
    assert kept(group="") == [halted, running, adhoc] and kept(group_exact="batch") == []
    assert kept(name_contains="E_P") == [report] and kept(name_contains="%") == []
    assert kept(name="top") == [halted, running]
    assert kept(statuses=("failed",)) == [report]
    assert kept(statuses=("other", "queued")) == [halted, running, adhoc]
    assert kept(user="cron") == [report] and kept(execution_type="scheduled") == [report]
    assert kept(adhoc=True) == [adhoc] and adhoc not in kept(adhoc=False)
    assert kept(ended_after=T0 + 15) == [report, halted] and kept(ended_before=T0 + 15) == [deploy]
    assert kept(ended_after=T0 + 15, ended_before=T0 + 25) == [report]
