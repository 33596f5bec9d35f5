"""Records built on the scheduler's path (a claimed run, a task read back, a request, a completion) skip the
dataclasses' generated ``__init__``: each must still have every field, equal the record built the ordinary way,
and stay frozen. A task type finds its password properties once, without changing what it pickles to."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import pytest
from task_helpers import DEMO_PLUGIN

from xlr_runtime.clock import VirtualClock
from xlr_runtime.engine import Engine
from xlr_runtime.plugins import build_plugin_manager
from xlr_runtime.scripting.build import prop, task_type
from xlr_runtime.scripting.contract import RunOutcome, ScheduleRequest, ScriptRunRequest, ScriptRunResult
from xlr_runtime.settings import defaults
from xlr_runtime.store import RunCompletion, RunState, ScriptRun, Store, Task, TaskStatus
from xlr_runtime.typesystem.registry import load_registry

T0 = 1_700_000_000.0


def field_names(record: object) -> set[str]:
    return {f.name for f in dataclasses.fields(record)}  # type: ignore[arg-type]


def test_a_claimed_run_has_every_field_and_equals_the_stored_run(store: Store) -> None:
    task = store.tasks.create(
        type_name="demo.Poll",
        title="t",
        properties={"n": 1},
        inputs={"n": 1},
        variables={},
        first_script="demo/Poll.py",
        now=T0,
    )

    (run,) = store.tasks.claim_due(T0, 5, owner="me", lease=10.0)

    assert set(vars(run)) == field_names(ScriptRun)
    assert run == ScriptRun(
        id=run.id,
        task_id=task.id,
        attempt=1,
        seq=1,
        script_path="demo/Poll.py",
        due_at=T0,
        state=RunState.RUNNING,
        owner="me",
        lease_until=T0 + 10.0,
        started_at=T0,
        claim_token=1,  # the run's first claim
    )
    assert run == store.tasks.get_run(run.id)
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.seq = 2  # type: ignore[misc]


def test_a_task_read_back_has_every_field_and_equals_the_ordinary_record(store: Store) -> None:
    created = store.tasks.create(
        type_name="demo.Poll",
        title="t",
        properties={"n": 1, "names": ["a"]},
        inputs={},
        variables={"releaseVariables": {"x": "y"}},
        first_script="demo/Poll.py",
        now=T0,
    )

    task = store.tasks.get_many([created.id])[created.id]

    assert set(vars(task)) == field_names(Task)
    assert task == Task(
        id=created.id,
        type="demo.Poll",
        title="t",
        status=TaskStatus.PLANNED,
        status_line=None,
        properties={"n": 1, "names": ["a"]},
        inputs={},
        variables={"releaseVariables": {"x": "y"}},
        attempt=1,
        created_at=T0,
    )
    assert task.status is TaskStatus.PLANNED
    with pytest.raises(dataclasses.FrozenInstanceError):
        task.title = "u"  # type: ignore[misc]


def test_password_properties_are_found_once_per_type_and_handed_out_as_a_new_list() -> None:
    secret_type = task_type(properties=[prop("user"), prop("token", password=True), prop("key", password=True)])

    first = secret_type.password_properties
    first.append("user")

    assert secret_type.password_properties == ["token", "key"]
    assert pickle.loads(pickle.dumps(secret_type)) == secret_type
    assert pickle.dumps(secret_type) == pickle.dumps(pickle.loads(pickle.dumps(secret_type)))  # no cache on the wire


def test_an_engine_request_and_completion_have_every_field(tmp_path: Path) -> None:
    registry = load_registry(plugin_paths=[DEMO_PLUGIN], pm=build_plugin_manager(load_installed=False))
    with Store.open(tmp_path / "xlr.db") as store:
        engine = Engine(store, registry, defaults(), VirtualClock(T0))
        task = engine.create_task("demo.Counter", {"polls": "5"})
        [run] = store.tasks.claim_due(T0, 1, owner=store.owner, lease=60)

        request = engine.prepare(run)
        done = engine.completion(
            run, ScriptRunResult(run_id=run.id, outcome=RunOutcome.SUCCEEDED, schedule=ScheduleRequest("x.py", 5))
        )

    assert isinstance(request, ScriptRunRequest)
    assert set(vars(request)) == field_names(ScriptRunRequest)
    assert (request.task_id, request.title, request.script_path) == (task.id, task.title, run.script_path)
    assert set(vars(done)) == field_names(RunCompletion)
    assert done.task_status is TaskStatus.FAILED  # x.py is not in the demo plugin
    assert done == RunCompletion(**vars(done))
