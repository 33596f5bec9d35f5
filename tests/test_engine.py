"""The task lifecycle: creation and validation, applying results, abort / retry / skip, lifecycle hooks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pluggy
import pytest
from task_helpers import DEMO_PLUGIN, ThreadScriptExecutor

from xlr_runtime import hookimpl
from xlr_runtime.cis import load_cis
from xlr_runtime.clock import SystemClock, VirtualClock
from xlr_runtime.engine import INTERRUPT_NOTE, Engine, masked_properties
from xlr_runtime.errors import StateError, TaskInputError, UnknownTypeError
from xlr_runtime.plugins import build_plugin_manager
from xlr_runtime.scheduler import Scheduler
from xlr_runtime.scripting.contract import Failure, RunOutcome, ScheduleRequest, ScriptRunRequest, ScriptRunResult
from xlr_runtime.secrets import is_sealed
from xlr_runtime.settings import defaults
from xlr_runtime.store import RunState, Store, TaskStatus
from xlr_runtime.typesystem.registry import TypeRegistry, load_registry

T0 = 1_700_000_000.0


@pytest.fixture(scope="module")
def registry() -> TypeRegistry:
    return load_registry(plugin_paths=[DEMO_PLUGIN], pm=build_plugin_manager(load_installed=False))


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    @hookimpl
    def xlr_task_started(self, task) -> None:  # type: ignore[no-untyped-def]
        self.events.append(("started", task.id, str(task.status)))

    @hookimpl
    def xlr_task_ended(self, task) -> None:  # type: ignore[no-untyped-def]
        self.events.append(("ended", task.id, str(task.status)))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def engine(tmp_path: Path, registry: TypeRegistry, recorder: Recorder) -> Iterator[Engine]:
    config = tmp_path / "xlr.toml"
    config.write_text(
        '[ci.local]\ntype = "demo.Server"\nurl = "http://127.0.0.1:1"\n[ci.other]\ntype = "demo.Settings"\n'
    )
    pm: pluggy.PluginManager = build_plugin_manager(load_installed=False)
    pm.register(recorder)
    store = Store.open(tmp_path / "xlr.db")
    yield Engine(store, registry, defaults(), VirtualClock(T0), cis=load_cis(config, registry), pm=pm)
    store.close()


def result(run_id: int, **kwargs: object) -> ScriptRunResult:
    return ScriptRunResult(run_id=run_id, outcome=kwargs.pop("outcome", RunOutcome.SUCCEEDED), **kwargs)  # type: ignore[arg-type]


def claim_one(engine: Engine):  # type: ignore[no-untyped-def]
    [run] = engine.store.tasks.claim_due(engine.clock.now(), 1, owner=engine.store.owner, lease=60)
    engine.claimed([run])
    return run


def test_create_coerces_inputs_and_applies_defaults(engine: Engine) -> None:
    task = engine.create_task("demo.Counter", {"polls": "5"}, title="count to five")
    assert (task.title, task.status, task.inputs) == ("count to five", TaskStatus.PLANNED, {"polls": 5})
    assert task.properties["polls"] == 5 and task.properties["count"] is None
    assert task.properties["scriptLocation"] == "demo/Counter.py"
    [run] = engine.store.tasks.runs(task.id)
    assert (run.script_path, run.due_at) == ("demo/Counter.py", T0)


@pytest.mark.parametrize(
    ("type_name", "inputs", "message"),
    [
        ("demo.Call", {"server": "local"}, "demo.Call: missing required input 'name'"),
        ("demo.Call", {}, "demo.Call: missing required input 'server' (and 'name')"),
        ("demo.Counter", {"polls": "many"}, "property 'polls' (integer): 'many' is not an integer"),
        ("demo.Call", {"server": "nowhere", "name": "x"}, "input 'server': unknown CI 'nowhere'"),
        (
            "demo.Call",
            {"server": "other", "name": "x"},
            "input 'server': CI 'other' is a demo.Settings, not a demo.Server",
        ),
        ("demo.Counter", {"colour": "red"}, "demo.Counter has no property 'colour'"),
        ("demo.Counter", {"count": "1"}, "demo.Counter has no input called 'count'"),
        ("demo.Abstract", {}, "demo.Abstract is virtual: only its concrete subtypes can run"),
        ("demo.Server", {}, "demo.Server is not a custom script task (it does not extend xlrelease.PythonScript)"),
    ],
)
def test_invalid_inputs_are_rejected_and_nothing_is_stored(
    engine: Engine, type_name: str, inputs: dict[str, str], message: str
) -> None:
    with pytest.raises(TaskInputError) as caught:
        engine.create_task(type_name, inputs)
    assert str(caught.value) == message
    assert engine.store.tasks.list() == []


def test_unknown_ci_hint_names_the_config_table(engine: Engine) -> None:
    with pytest.raises(TaskInputError) as caught:
        engine.create_task("demo.Call", {"server": "nowhere", "name": "x"})
    assert caught.value.hint == "Define it as [ci.nowhere] in xlr.toml (known CIs: local, other)."


def test_unknown_type(engine: Engine) -> None:
    with pytest.raises(UnknownTypeError, match=r"^unknown type 'demo.Nope'$"):
        engine.create_task("demo.Nope", {})


def test_prepare_builds_the_request_with_source_and_resolved_cis(engine: Engine) -> None:
    task = engine.create_task("demo.Call", {"server": "local", "name": "svc"})
    request = engine.prepare(claim_one(engine))
    assert isinstance(request, ScriptRunRequest)
    assert request.script_file == str(DEMO_PLUGIN / "demo" / "Call.py")
    assert "calling" in request.source and request.task_id == task.id
    assert request.cis["server"].values["url"] == "http://127.0.0.1:1"  # type: ignore[union-attr]
    assert request.properties["name"] == "svc" and request.timeout == 3600.0


def test_schedule_without_interval_uses_the_default(engine: Engine) -> None:
    task = engine.create_task("demo.Counter", {})
    run = claim_one(engine)
    done = engine.completion(
        run,
        result(run.id, schedule=ScheduleRequest("demo/Counter.next.py"), properties={"count": 0}, status_line="0/3"),
    )
    engine.commit([done])
    runs = engine.store.tasks.runs(task.id)
    assert (runs[1].script_path, runs[1].due_at, runs[1].state) == ("demo/Counter.next.py", T0 + 5, RunState.DUE)
    stored = engine.store.tasks.get(task.id)
    assert (stored.status, stored.status_line, stored.properties["count"]) == (TaskStatus.IN_PROGRESS, "0/3", 0)


def test_interval_below_the_minimum_is_raised_with_a_warning(engine: Engine) -> None:
    task = engine.create_task("demo.Counter", {})
    run = claim_one(engine)
    engine.commit([engine.completion(run, result(run.id, schedule=ScheduleRequest("demo/Counter.next.py", 0.2)))])
    assert engine.store.tasks.runs(task.id)[1].due_at == T0 + 1
    assert [line.text for line in engine.store.tasks.log(task.id)] == [
        "Warning: task.schedule() interval 0.2s is below the minimum of 1s; using 1s."
    ]


def test_interval_as_asked_when_allowed(engine: Engine) -> None:
    task = engine.create_task("demo.Counter", {})
    run = claim_one(engine)
    engine.commit([engine.completion(run, result(run.id, schedule=ScheduleRequest("demo/Counter.next.py", 42)))])
    assert engine.store.tasks.runs(task.id)[1].due_at == T0 + 42


def test_schedule_of_a_missing_script_fails_the_task(engine: Engine, recorder: Recorder) -> None:
    task = engine.create_task("demo.BadSchedule", {})
    run = claim_one(engine)
    engine.commit([engine.completion(run, result(run.id, schedule=ScheduleRequest("demo/Missing.py", 2)))])
    stored = engine.store.tasks.get(task.id)
    assert stored.status is TaskStatus.FAILED
    assert stored.failure == "task.schedule(): script 'demo/Missing.py' is not in the plugin of demo.BadSchedule"
    assert recorder.events == [("started", task.id, "in_progress"), ("ended", task.id, "failed")]


def test_failed_run_fails_the_task_and_keeps_only_what_the_script_kept(engine: Engine) -> None:
    # a failed run's result carries only the properties set with pythonScript.setProperty (scripting.execution)
    task = engine.create_task("demo.Counter", {})
    run = claim_one(engine)
    failure = Failure("Exception", "boom", "Traceback...")
    engine.commit(
        [engine.completion(run, result(run.id, outcome=RunOutcome.FAILED, failure=failure, properties={"count": 9}))]
    )
    stored = engine.store.tasks.get(task.id)
    assert (stored.status, stored.failure, stored.properties["count"]) == (TaskStatus.FAILED, "Exception: boom", 9)
    assert stored.properties["done"] is None
    assert engine.store.tasks.log(task.id)[-1].text == "Task failed: Exception: boom"


def test_completed_run_completes_the_task(engine: Engine, recorder: Recorder) -> None:
    task = engine.create_task("demo.Counter", {"polls": "0"})
    run = claim_one(engine)
    engine.commit([engine.completion(run, result(run.id, properties={"count": 0, "done": "yes"}))])
    stored = engine.store.tasks.get(task.id)
    assert (stored.status, stored.properties["done"], stored.ended_at) == (TaskStatus.COMPLETED, "yes", T0)
    assert recorder.events == [("started", task.id, "in_progress"), ("ended", task.id, "completed")]


def test_abort_cancels_the_pending_run_and_retry_starts_over(engine: Engine, recorder: Recorder) -> None:
    task = engine.create_task("demo.Counter", {"polls": "4"})
    run = claim_one(engine)
    engine.commit(
        [
            engine.completion(
                run, result(run.id, schedule=ScheduleRequest("demo/Counter.next.py"), properties={"count": 2})
            )
        ]
    )
    aborted = engine.abort(task.id)
    assert (aborted.status, aborted.failure) == (TaskStatus.ABORTED, "Aborted by user")
    assert [r.state for r in engine.store.tasks.runs(task.id)] == [RunState.DONE, RunState.CANCELLED]
    with pytest.raises(StateError, match=r"^task 1 is aborted; cannot make it aborted$"):
        engine.abort(task.id)
    retried = engine.retry(task.id)
    assert (retried.status, retried.attempt, retried.properties["count"], retried.properties["polls"]) == (
        TaskStatus.PLANNED,
        2,
        None,
        4,
    )
    assert engine.store.tasks.runs(task.id)[-1].script_path == "demo/Counter.py"
    assert engine.store.tasks.log(task.id)[-1].text == "Retry: attempt 2 starts from demo/Counter.py"
    assert recorder.events[-1] == ("ended", task.id, "aborted")


def test_retry_of_an_active_or_completed_task_is_a_state_error(engine: Engine) -> None:
    task = engine.create_task("demo.Counter", {})
    with pytest.raises(StateError, match=r"^task 1 is planned; only a failed or aborted task can be retried$"):
        engine.retry(task.id)


def test_skip_a_failed_task(engine: Engine) -> None:
    task = engine.create_task("demo.Fail", {})
    run = claim_one(engine)
    engine.commit([engine.completion(run, result(run.id, outcome=RunOutcome.FAILED, failure=Failure("E", "x")))])
    assert engine.skip(task.id).status is TaskStatus.SKIPPED
    with pytest.raises(StateError, match=r"^task 1 is skipped; cannot make it skipped$"):
        engine.skip(task.id)


def test_script_missing_at_start_fails_the_task(engine: Engine, registry: TypeRegistry) -> None:
    task = engine.create_task("demo.Counter", {})
    engine.store.execute("UPDATE script_runs SET script_path = 'demo/Gone.py'")
    prepared = engine.prepare(claim_one(engine))
    engine.commit([prepared])  # type: ignore[list-item]
    assert engine.store.tasks.get(task.id).failure == "script 'demo/Gone.py' is not in the plugin of demo.Counter"


def test_unset_password_variable_fails_the_run_naming_the_variable(
    tmp_path: Path, registry: TypeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "xlr.toml"
    config.write_text('[ci.s]\ntype = "demo.Server"\nurl = "http://x"\npassword = { env = "DEMO_SECRET" }\n')
    monkeypatch.delenv("DEMO_SECRET", raising=False)
    with Store.open(tmp_path / "xlr.db") as store:
        engine = Engine(store, registry, defaults(), VirtualClock(T0), cis=load_cis(config, registry))
        task = engine.create_task("demo.Call", {"server": "s", "name": "x"})
        engine.commit([engine.prepare(claim_one(engine))])  # type: ignore[list-item]
        assert (
            store.tasks.get(task.id).failure == "CI 's': environment variable DEMO_SECRET (for 'password') is not set"
        )
        monkeypatch.setenv("DEMO_SECRET", "s3cret")
        engine.retry(task.id)
        request = engine.prepare(claim_one(engine))
        assert request.cis["server"].values["password"] == "s3cret"  # type: ignore[union-attr]
        assert request.cis["server"].password_fields == ("password", "proxyPassword", "clientSecret")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("grace_period", "stop_note", "line"),
    [
        (
            0.0,
            None,
            "Script demo/Sleep.py was interrupted (the runtime stopped); it is re-run when the runtime starts again.",
        ),
        (
            0.1,
            None,
            "Script demo/Sleep.py did not end within the grace period; it is re-run when the runtime starts again.",
        ),
        (
            0.0,
            INTERRUPT_NOTE,
            "Script demo/Sleep.py was interrupted (xlr run stopped); it is re-run when the runtime starts again.",
        ),
    ],
)
def test_the_log_line_of_a_run_requeued_by_a_stop_says_what_happened(
    tmp_path: Path, registry: TypeRegistry, grace_period: float, stop_note: str | None, line: str
) -> None:
    executor = ThreadScriptExecutor(1)
    try:
        with Store.open(tmp_path / "xlr.db") as store:
            scheduler = Scheduler(store, registry, executor, defaults(), SystemClock())
            task = scheduler.engine.create_task("demo.Sleep", {"seconds": "2"})
            assert scheduler.tick() == 1
            [requeued] = scheduler.shutdown(grace_period, stop_note=stop_note)
            assert (requeued.state, requeued.restarts) == (RunState.DUE, 1)
            assert store.tasks.log(task.id)[-1].text == line
    finally:
        executor.shutdown(wait=False)  # the sleeping script is not waited for


def test_secret_inputs_are_sealed_and_are_passwords_for_the_tasks_runs(engine: Engine) -> None:
    task = engine.create_task("demo.Call", {"server": "local", "name": "s3cret-1"}, secret_inputs=["name", "nope"])
    assert is_sealed(task.inputs["name"]) and is_sealed(task.properties["name"])
    assert masked_properties(engine.registry.get("demo.Call"), task.properties)["name"] == "********"
    run = claim_one(engine)
    request = engine.prepare(run)
    assert isinstance(request, ScriptRunRequest)
    assert request.properties["name"] == "s3cret-1"  # opened for the worker, which masks it as a password
    assert "name" in request.task_type.password_properties
    assert "name" not in engine.registry.get("demo.Call").password_properties
    engine.commit([engine.completion(run, result(run.id, outcome=RunOutcome.FAILED, properties={"name": "s3cret-2"}))])
    stored = engine.store.tasks.get(task.id)
    assert is_sealed(stored.properties["name"]) and engine.secrets.open_value(stored.properties["name"]) == "s3cret-2"
    engine.retry(task.id)
    again = engine.prepare(claim_one(engine))
    assert isinstance(again, ScriptRunRequest) and again.properties["name"] == "s3cret-1"
    assert b"s3cret" not in b"".join(p.read_bytes() for p in engine.store.path.parent.glob("xlr.db*"))
