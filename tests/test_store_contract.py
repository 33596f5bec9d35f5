"""The store contract of the areas without a test module of their own (tokens, notifications, schedules), and what
both backends must agree on beyond one repository: text search and order, migrations bookkeeping, the claim of
concurrent claimers. Every test runs on each backend of the ``store`` fixture (tests/store_backends.py)."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest
from history_helpers import execution
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.store_backends import another_store
from xlr_runtime.errors import StateError, StoreError
from xlr_runtime.store import MigrationSet, RunCompletion, ScriptRun, Store, TaskStatus, applied_migrations
from xlr_runtime.store.executions import ExecutionStatus
from xlr_runtime.store.notifications import DeliveryState, EventState
from xlr_runtime.store.tasks import LogLine

T0 = 1_700_000_000.0


def new_task(store: Store, title: str, *, status_line: str | None = None) -> str:
    task = store.tasks.create(
        type_name="demo.Run", title=title, properties={}, inputs={}, variables={}, first_script="a.py", now=T0
    )
    if status_line is not None:
        store.execute("UPDATE tasks SET status_line = ? WHERE id = ?", [status_line, int(task.id)])
    return task.id


def test_tokens_are_unique_by_name_until_revoked(store: Store) -> None:
    first = store.tokens.add("ci", "a" * 64, now=T0)
    with pytest.raises(StateError, match="a token named 'ci' exists"):
        store.tokens.add("ci", "b" * 64, now=T0)
    store.tokens.mark_used(first.id, now=T0 + 5)
    assert store.tokens.revoke("ci", now=T0 + 10) is True
    assert store.tokens.revoke("ci", now=T0 + 11) is False
    second = store.tokens.add("ci", "c" * 64, now=T0 + 20)
    assert [t.name for t in store.tokens.listed()] == ["ci"]
    assert [(t.id, t.last_used_at, t.revoked_at) for t in store.tokens.listed(include_revoked=True)] == [
        (first.id, T0 + 5, T0 + 10),
        (second.id, None, None),
    ]


def test_a_session_has_its_token_while_the_token_is_valid_and_the_session_was_not_ended(store: Store) -> None:
    kept = store.tokens.add("kept", "a" * 64, now=T0)
    revoked = store.tokens.add("revoked", "b" * 64, now=T0)
    store.tokens.revoke("revoked", now=T0 + 1)
    assert store.tokens.session_token(kept.id, "1" * 64) == kept
    assert store.tokens.session_token(revoked.id, "1" * 64) is None
    assert store.tokens.session_token(kept.id + revoked.id, "1" * 64) is None  # never issued
    store.tokens.end_session("1" * 64, until=T0 + 10, now=T0 + 2)
    assert store.tokens.session_token(kept.id, "1" * 64) is None
    assert store.tokens.session_token(kept.id, "2" * 64) == kept  # another session of the same token
    store.tokens.end_session("2" * 64, until=T0 + 20, now=T0 + 10)  # the first one's cookie has expired: forgotten
    assert store.tokens.session_token(kept.id, "1" * 64) == kept
    assert store.tokens.session_token(kept.id, "2" * 64) is None


def test_a_notification_event_and_a_delivery_are_recorded_once(store: Store) -> None:
    ended = execution(store, T0, notification=None)
    assert store.notifications.add_event(ended.id, "onsuccess", due_at=T0, now=T0) is True
    assert store.notifications.add_event(ended.id, "onsuccess", due_at=T0, now=T0) is False
    [event] = store.notifications.claim_due(T0, owner="me")
    assert (event.trigger, event.state, store.notifications.claim_due(T0, owner="other")) == (
        "onsuccess",
        EventState.SENDING,
        [],
    )
    assert store.notifications.begin_delivery(event.id, 0, kind="email", target="a@b", now=T0) is True
    assert store.notifications.begin_delivery(event.id, 0, kind="email", target="a@b", now=T0) is False
    store.notifications.end_delivery(event.id, 0, state=DeliveryState.SENT, detail=None, now=T0 + 1)
    store.notifications.finish_event(event.id, EventState.DONE)
    [delivery] = store.notifications.deliveries(ended.id)
    assert (delivery.state, delivery.at, store.notifications.next_due_at()) == (DeliveryState.SENT, T0 + 1, None)
    assert store.notifications.run_counts("ops", "job-1") == (1, 1)


def test_a_crashed_sender_leaves_its_delivery_unknown_and_its_event_pending(store: Store) -> None:
    ended = execution(store, T0, status=ExecutionStatus.FAILED, notification=None)
    store.notifications.add_event(ended.id, "onfailure", due_at=T0, now=T0)
    [event] = store.notifications.claim_due(T0, owner="dead")
    store.notifications.begin_delivery(event.id, 0, kind="webhook", target="http://127.0.0.1:1", now=T0)
    assert store.notifications.sending_owners() == ["dead"]
    assert store.notifications.requeue(["dead"], now=T0 + 1) == 1
    [delivery] = store.notifications.deliveries(ended.id)
    assert (delivery.state, store.notifications.next_due_at()) == (DeliveryState.UNKNOWN, T0)


def test_a_schedule_fires_once_per_expected_time(store: Store) -> None:
    store.jobs.ensure_project("P", now=T0)
    store.schedules.save(
        "u-1", project="P", definition_sha256="d", crontab="0 * * * * ? *", time_zone="UTC", next_fire_at=T0 + 60,
        note=None, now=T0,
    )  # fmt: skip
    assert store.schedules.due(T0) == [] and store.schedules.next_due_at() == T0 + 60
    [due] = store.schedules.due(T0 + 60)
    assert store.schedules.advance("u-1", expected=T0 + 60, next_fire_at=T0 + 120, fired_at=T0 + 60) is True
    assert store.schedules.advance("u-1", expected=T0 + 60, next_fire_at=T0 + 120, fired_at=T0 + 60) is False
    store.schedules.record_fire("u-1", execution_id=None, error="no such option")
    row = store.schedules.get("u-1")
    assert row is not None and (row.next_fire_at, row.last_fire_at, row.last_error) == (
        T0 + 120,
        T0 + 60,
        "no such option",
    )
    assert store.schedules.remove_orphans() == ["u-1"] and store.schedules.list("P") == []
    assert due.job_uuid == "u-1"


def test_text_search_ignores_the_case_of_ascii_letters_and_pages_by_id(store: Store) -> None:
    ids = [new_task(store, title) for title in ("Deploy WEB", "deploy db", "Build")]
    new_task(store, "other", status_line="DEPLOYING 100%")
    found = store.tasks.summaries(text="deploy")
    assert [t.title for t in found] == ["other", "deploy db", "Deploy WEB"]
    assert [t.title for t in store.tasks.summaries(text="100%")] == ["other"]  # % is taken literally
    assert [t.id for t in store.tasks.summaries(limit=2, before=int(ids[2]))] == [ids[1], ids[0]]
    assert store.tasks.count(statuses=[TaskStatus.PLANNED]) == 4


def test_text_sorts_by_its_bytes(store: Store) -> None:
    for path in ("keys/b", "keys/B", "keys/a", "keys/_x", "keys/é"):
        store.keys.put(path, kind="password", size=1, sealed="s", now=T0)
    assert [k.path for k in store.keys.under("keys")] == ["keys/B", "keys/_x", "keys/a", "keys/b", "keys/é"]
    assert [k.path for k in store.keys.under("keys/_")] == []  # a wildcard in a prefix is taken literally


def test_migrations_are_recorded_once_with_the_same_steps_on_every_backend(store: Store) -> None:
    applied = applied_migrations(store)
    names = [(name, step) for name, step, _ in applied if name != "postgresql"]
    assert names == [(s.name, step.name) for s in store.migration_sets() if s.name != "postgresql" for step in s.steps]
    assert len(set(names)) == len(names)
    assert [t for _, _, t in applied] == sorted(t for _, _, t in applied)
    with another_store(store) as again:
        assert applied_migrations(again) == applied


def test_a_step_this_version_does_not_know_is_refused(store: Store) -> None:
    store.execute(
        "INSERT INTO _migrations (migration_set, name, applied_at) VALUES (?, ?, ?)", ["tasks", "from the future", T0]
    )
    with pytest.raises(StoreError, match=r"migration tasks/from the future is not known to this xlr-runtime"):
        another_store(store)


def test_a_failing_step_leaves_nothing_of_itself(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = MigrationSet("broken")

    @broken.step("half done")
    def _half(db: object) -> None:
        db.execute("CREATE TABLE half (x INTEGER)")  # type: ignore[attr-defined]
        raise RuntimeError("the step fails after its first statement")

    monkeypatch.setattr(type(store), "migration_sets", lambda self: [broken])
    with pytest.raises(RuntimeError):
        store.migrate()
    assert "half" not in store.row_counts()
    assert all(name != "broken" for name, _, _ in applied_migrations(store))


def test_claimers_on_separate_connections_take_different_runs(store: Store) -> None:
    for n in range(40):
        new_task(store, f"t{n}")
    claimed: list[list[int]] = []
    start = threading.Barrier(4)

    def claim(name: str) -> None:
        with another_store(store, owner=name) as mine:
            start.wait()
            taken: list[int] = []
            while runs := mine.tasks.claim_due(T0, 3, owner=name, lease=60):
                taken += [run.id for run in runs]
            claimed.append(taken)

    threads = [threading.Thread(target=claim, args=(f"claimer-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    every = [run for runs in claimed for run in runs]
    assert sorted(every) == sorted({run for run in every}) and len(every) == 40


def completion_of(run: ScriptRun, **changes: object) -> RunCompletion:
    """A successful completion of ``run`` under its claim, ending its task."""
    return replace(
        RunCompletion(run.id, "succeeded", T0, T0 + 1, task_status=TaskStatus.COMPLETED, claim_token=run.claim_token),
        **changes,
    )


def test_each_claim_of_a_run_gets_a_new_fencing_token(store: Store) -> None:
    new_task(store, "t")
    [first] = store.tasks.claim_due(T0, 1, owner="me", lease=60)
    store.tasks.requeue_owned(["me"], now=T0 + 1, note="re-queued")
    [second] = store.tasks.claim_due(T0 + 1, 1, owner="me", lease=60)
    assert (second.id, second.claim_token) == (first.id, first.claim_token + 1)
    assert store.tasks.get_run(second.id).claim_token == second.claim_token


@pytest.mark.parametrize("new_owner", ["me", "other"])
def test_a_completion_under_a_stale_claim_changes_nothing(store: Store, new_owner: str) -> None:
    task_id = new_task(store, "t")
    [stale] = store.tasks.claim_due(T0, 1, owner="me", lease=60)
    store.tasks.requeue_owned(["me"], now=T0 + 70, note="taken over")  # its lease ran out
    [current] = store.tasks.claim_due(T0 + 70, 1, owner=new_owner, lease=60)
    before = (store.tasks.get_run(stale.id), store.tasks.get(task_id), store.tasks.log(task_id))
    assert store.tasks.complete([completion_of(stale, log=[LogLine(T0, "stdout", "late")])], owner="me") == []
    assert (store.tasks.get_run(stale.id), store.tasks.get(task_id), store.tasks.log(task_id)) == before
    assert store.tasks.complete([completion_of(current)], owner=new_owner) == [current.id]
    assert store.tasks.get(task_id).status is TaskStatus.COMPLETED


def test_a_completion_merges_properties_by_name_keeping_their_order(store: Store) -> None:
    task = store.tasks.create(
        type_name="demo.Run", title="t", properties={"z": 1, "a.b": "x", "c d": None}, inputs={}, variables={},
        first_script="a.py", now=T0,
    )  # fmt: skip
    [run] = store.tasks.claim_due(T0, 1, owner="me", lease=60)
    merged = {"c d": {"deep": [1, "ü"]}, "ünï": "100%", "a.b": 'y"'}
    completion = RunCompletion(run.id, "succeeded", T0, T0 + 1, properties=merged, next_script="b.py", next_due_at=T0)
    assert store.tasks.complete([completion], owner="me") == [run.id]
    properties = store.tasks.get(task.id).properties
    assert list(properties.items()) == [("z", 1), ("a.b", 'y"'), ("c d", {"deep": [1, "ü"]}), ("ünï", "100%")]


#: Property names that SQLite's JSON path syntax (``$."name"``) cannot name, or names differently on some SQLite
#: versions: quotes, backslashes, characters the stored JSON escapes (non-ASCII, control characters), the empty
#: name; and some it can, with path syntax inside (dots, brackets, ``$``).
AWKWARD_NAMES = [
    'a"b', '"', "a\\b", "\\", "end\\", 'a\\"b', '\\"', "a.b", "a[0]", "$", "$.x", "a'b", "é", "日本", "😀",
    "a\nb", "\x01", "\x7f", "", " ", "plain",
]  # fmt: skip


def stored_pairs(store: Store, task_id: str) -> list[tuple[str, object]]:
    """The task's properties as stored, in their order, read on another connection (no cached copy); a key found
    twice in the stored JSON fails the test."""

    def unique(pairs: list[tuple[str, object]]) -> dict[str, object]:
        assert len({key for key, _ in pairs}) == len(pairs), f"a key is stored twice: {text}"
        return dict(pairs)

    with another_store(store) as other:
        [text] = other.execute("SELECT properties FROM tasks WHERE id = ?", [int(task_id)]).fetchone()
    return list(json.loads(text, object_pairs_hook=unique).items())


def merge_into_new_task(store: Store, before: dict[str, object], merged: dict[str, object]) -> str:
    """A task created with properties ``before``, whose first run completes with properties ``merged``."""
    task = store.tasks.create(
        type_name="demo.Run", title="t", properties=before, inputs={}, variables={}, first_script="a.py", now=T0
    )
    [run] = store.tasks.claim_due(T0, 1, owner="me", lease=60)
    completion = RunCompletion(run.id, "succeeded", T0, T0 + 1, properties=merged, next_script="b.py", next_due_at=T0)
    assert store.tasks.complete([completion], owner="me") == [run.id]
    return task.id


@pytest.mark.parametrize("name", AWKWARD_NAMES, ids=ascii)
def test_a_property_of_any_name_is_merged_in_place_once(store: Store, name: str) -> None:
    task_id = merge_into_new_task(
        store, {"first": 1, name: "old", "last": 2}, {name: {"new": [name]}, f"{name}+": None, "last": 3}
    )
    assert stored_pairs(store, task_id) == [("first", 1), (name, {"new": [name]}), ("last", 3), (f"{name}+", None)]
    assert store.tasks.get(task_id).properties == {"first": 1, name: {"new": [name]}, "last": 3, f"{name}+": None}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    names=st.lists(st.text(max_size=8), min_size=1, max_size=4, unique=True),
    kept=st.text(max_size=8),
)
def test_any_property_names_round_trip(store: Store, names: list[str], kept: str) -> None:
    before = {kept: "kept", **{name: "old" for name in names[::2]}}
    merged = {name: f"new {index}" for index, name in enumerate(names)}
    task_id = merge_into_new_task(store, before, merged)
    assert stored_pairs(store, task_id) == list({**before, **merged}.items())
    store.execute("DELETE FROM script_runs")  # the next example claims its own task's run
