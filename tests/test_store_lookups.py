"""Direct lookups on hot paths: the retry of an execution however many the job has, and changed jobs found by
comparing definition digests (the schedule loop's once-a-second question)."""

from __future__ import annotations

from pathlib import Path

from xlr_runtime.rundeck.jobs.jobstore import JobStore
from xlr_runtime.rundeck.jobs.model import ExecStep, Job, Schedule, Workflow
from xlr_runtime.store import Store
from xlr_runtime.store.jobs import definition_sha256

T0 = 1_700_000_000.0


def execution(store: Store, **fields: object) -> int:
    values: dict[str, object] = {
        "project": "P",
        "job_id": "uuid-1",
        "job_name": "deploy",
        "job_group": None,
        "job_xml": "<joblist/>",
        "options": {},
        "arg_string": "",
        "user": "admin",
        "now": T0,
    }
    values.update(fields)
    return store.executions.create(**values).id  # type: ignore[arg-type]


def test_the_retry_of_an_old_execution_is_found_behind_more_than_100_newer_ones(store: Store) -> None:
    first = execution(store)
    retry = execution(store, attempt=1, retry_initial_id=first, retry_prev_id=first)
    second_retry = execution(store, attempt=2, retry_initial_id=first, retry_prev_id=retry)
    newer = [execution(store) for _ in range(120)]
    assert retry not in [e.id for e in store.executions.list(project="P", job_id="uuid-1")]  # the newest 100 only
    found = store.executions.retry_of(first)
    assert found is not None and (found.id, found.attempt, found.retry_prev_id) == (retry, 1, first)
    assert [e.id for e in [store.executions.retry_of(retry)] if e is not None] == [second_retry]
    assert store.executions.retry_of(second_retry) is None
    assert store.executions.retry_of(newer[-1]) is None


def job(uuid: str, command: str = "true", crontab: str = "0 0 12 ? * *") -> Job:
    steps = Workflow(steps=(ExecStep(command=command),))
    return Job(name=uuid, uuid=uuid, sequence=steps, schedule=Schedule.from_crontab(crontab))


def save_schedules(store: Store) -> None:
    """What the schedule loop does with stale jobs, without planning: record the digest they were seen with."""
    for stale in store.schedules.stale():
        store.schedules.save(
            stale.job_uuid,
            project=stale.project,
            definition_sha256=stale.definition_sha256,
            crontab=None,
            time_zone=None,
            next_fire_at=None,
            note=None,
            now=T0,
        )


def test_changed_jobs_are_found_by_their_definition_digest(store: Store) -> None:
    JobStore(store).load("p", [job("u-1"), job("u-2")], now=T0)
    assert [s.job_uuid for s in store.schedules.stale()] == ["u-1", "u-2"]
    save_schedules(store)
    assert store.schedules.stale() == []
    JobStore(store).load("p", [job("u-1"), job("u-2")], now=T0 + 1)  # the same definitions again: nothing to re-plan
    assert store.schedules.stale() == []
    JobStore(store).load("p", [job("u-2", command="false")], now=T0 + 2)
    [stale] = store.schedules.stale()
    assert stale.job_uuid == "u-2" and stale.definition_sha256 == definition_sha256(stale.definition)
    assert stale.previous is not None and stale.previous.definition_sha256 != stale.definition_sha256
    save_schedules(store)
    JobStore(store).delete("p", "u-1")
    assert store.schedules.stale() == [] and store.schedules.remove_orphans() == ["u-1"]


def test_the_stale_check_compares_digests_from_an_index(tmp_path: Path) -> None:
    with Store.open(tmp_path / "xlr.db") as store:
        traced: list[str] = []
        store.conn.set_trace_callback(traced.append)
        store.schedules.stale()
        store.conn.set_trace_callback(None)
        [statement] = traced
        plan = [row["detail"] for row in store.query(f"EXPLAIN QUERY PLAN {statement}")]
        assert plan[0] == "SCAN j USING INDEX jobs_definition_sha256"  # the table only for the stale jobs' rows
