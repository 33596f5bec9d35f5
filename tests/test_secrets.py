"""Password property values at rest: sealed with the home's ``secret.key`` before the store writes them, opened
only for the worker's request, unsealed values of older databases still read, and a lost key failing the task
with a clear message. The end-to-end canary search of the raw database files is in test_lifecycle_e2e.py."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from task_helpers import DEMO_PLUGIN

from xlr_runtime.cis import load_cis
from xlr_runtime.clock import VirtualClock
from xlr_runtime.engine import Engine, masked_properties
from xlr_runtime.errors import StoreError
from xlr_runtime.plugins import build_plugin_manager
from xlr_runtime.scripting.contract import RunOutcome, ScriptRunRequest, ScriptRunResult
from xlr_runtime.secrets import SEALED_PREFIX, SecretBox, is_sealed
from xlr_runtime.settings import defaults
from xlr_runtime.store import RunCompletion, Store, TaskStatus
from xlr_runtime.typesystem.registry import TypeRegistry, load_registry

T0 = 1_700_000_000.0
CANARY = "tok-c4n4ry/51x"


@pytest.fixture(scope="module")
def registry() -> TypeRegistry:
    return load_registry(plugin_paths=[DEMO_PLUGIN], pm=build_plugin_manager(load_installed=False))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "xlr.db") as opened:
        yield opened


def make_engine(store: Store, registry: TypeRegistry, tmp_path: Path) -> Engine:
    config = tmp_path / "xlr.toml"
    config.write_text('[ci.local]\ntype = "demo.Server"\nurl = "http://127.0.0.1:1"\n')
    return Engine(store, registry, defaults(), VirtualClock(T0), cis=load_cis(config, registry))


@pytest.fixture
def engine(store: Store, registry: TypeRegistry, tmp_path: Path) -> Engine:
    return make_engine(store, registry, tmp_path)


def call_inputs(token: str = CANARY) -> dict[str, str]:
    return {"server": "local", "name": "n", "token": token}


def prepare_one(engine: Engine) -> ScriptRunRequest | RunCompletion:
    [run] = engine.store.tasks.claim_due(engine.clock.now(), 1, owner=engine.store.owner, lease=60)
    return engine.prepare(run)


def cells_holding(database: Path, needle: str) -> set[tuple[str, str]]:
    connection = sqlite3.connect(database)
    try:
        cells: set[tuple[str, str]] = set()
        for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            cursor = connection.execute(f'SELECT * FROM "{table}"')
            columns = [column[0] for column in cursor.description]
            for row in cursor:
                cells.update((table, c) for c, v in zip(columns, row, strict=True) if needle in str(v))
        return cells
    finally:
        connection.close()


# -- the box --------------------------------------------------------------------------------------------------


def test_a_sealed_value_opens_to_the_clear_text_and_the_key_file_is_private(tmp_path: Path) -> None:
    box = SecretBox(tmp_path)
    sealed = box.seal_value(CANARY)
    assert sealed.startswith(SEALED_PREFIX) and CANARY not in sealed and is_sealed(sealed)
    assert box.open_value(sealed) == CANARY
    assert SecretBox(tmp_path).open_value(sealed) == CANARY  # the key is kept in the home, not in memory
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600


def test_empty_values_sealed_values_and_unsealed_values_pass_through(tmp_path: Path) -> None:
    box = SecretBox(tmp_path)
    assert [box.seal_value(v) for v in (None, "", 5)] == [None, "", 5]
    sealed = box.seal_value(CANARY)
    assert box.seal_value(sealed) == sealed
    assert [box.open_value(v) for v in (CANARY, None)] == [CANARY, None]  # stored before values were sealed


def test_another_homes_key_cannot_open_a_sealed_value(tmp_path: Path) -> None:
    sealed = SecretBox(tmp_path / "a").seal_value(CANARY)
    other = SecretBox(tmp_path / "b")
    with pytest.raises(StoreError) as caught:
        other.open_value(sealed)
    assert str(caught.value) == f"a sealed value cannot be decrypted with {tmp_path / 'b' / 'secret.key'}"


# -- the engine -----------------------------------------------------------------------------------------------


def test_a_password_input_is_stored_sealed_and_opened_only_for_the_worker(engine: Engine, tmp_path: Path) -> None:
    task = engine.create_task("demo.Call", call_inputs())
    assert is_sealed(task.inputs["token"]) and is_sealed(task.properties["token"])
    assert (task.inputs["name"], task.properties["name"]) == ("n", "n")  # other properties stay as they are
    assert cells_holding(tmp_path / "xlr.db", CANARY) == set()
    assert masked_properties(engine.registry.get("demo.Call"), task.properties)["token"] == "********"
    request = prepare_one(engine)
    assert isinstance(request, ScriptRunRequest)
    assert request.properties["token"] == CANARY


def test_a_password_returned_by_a_script_is_stored_sealed(engine: Engine, tmp_path: Path) -> None:
    task = engine.create_task("demo.Call", call_inputs(""))
    request = prepare_one(engine)
    assert isinstance(request, ScriptRunRequest) and request.properties["token"] == ""
    [run] = engine.store.tasks.runs(task.id)
    engine.commit(
        [
            engine.completion(
                run,
                ScriptRunResult(
                    run_id=run.id, outcome=RunOutcome.FAILED, properties={"token": CANARY, "url": "http://u"}
                ),
            )
        ]
    )
    stored = engine.store.tasks.get(task.id)
    assert stored.status is TaskStatus.FAILED and stored.properties["url"] == "http://u"
    assert SecretBox(tmp_path).open_value(stored.properties["token"]) == CANARY
    assert cells_holding(tmp_path / "xlr.db", CANARY) == set()


def test_an_unsealed_value_of_an_older_database_still_runs_and_a_retry_seals_it(engine: Engine, tmp_path: Path) -> None:
    task = engine.store.tasks.create(
        type_name="demo.Call",
        title="old",
        properties={"server": "local", "name": "n", "token": CANARY, "mode": "fast"},
        inputs=call_inputs(),
        variables={},
        first_script="demo/Call.py",
        now=T0,
    )
    request = prepare_one(engine)
    assert isinstance(request, ScriptRunRequest) and request.properties["token"] == CANARY
    engine.abort(task.id)
    retried = engine.retry(task.id)
    assert is_sealed(retried.properties["token"])
    assert retried.inputs["token"] == CANARY  # the stored inputs are kept as they were written


def test_a_lost_key_fails_the_task_with_a_clear_message(store: Store, registry: TypeRegistry, tmp_path: Path) -> None:
    task = make_engine(store, registry, tmp_path).create_task("demo.Call", call_inputs())
    (tmp_path / "secret.key").unlink()
    engine = make_engine(store, registry, tmp_path)  # a new runtime finds a new key
    completion = prepare_one(engine)
    assert isinstance(completion, RunCompletion)
    engine.commit([completion])
    reason = (
        f"password property 'token' cannot be decrypted with {tmp_path / 'secret.key'}: the key was lost or "
        "replaced since the task was created; create the task again with its password"
    )
    failed = store.tasks.get(task.id)
    assert (failed.status, failed.failure) == (TaskStatus.FAILED, reason)
    assert store.tasks.log(task.id)[-1].text == f"Task failed: {reason}"


def test_a_key_another_thread_or_process_created_meanwhile_is_the_one_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = SecretBox(tmp_path).seal_json({"n": 1})  # the other one created the key and sealed with it
    late = SecretBox(tmp_path)
    monkeypatch.setattr(Path, "exists", lambda _self: False)  # this one looked before the key was there
    assert late.open_fresh_json(token, max_age=60) == {"n": 1}
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.key"]  # no draft left behind
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600
