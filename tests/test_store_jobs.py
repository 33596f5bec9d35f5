"""The jobs area of the store: projects and job rows, kept and returned as given (the store never reads a
definition; :mod:`xlr_runtime.rundeck.jobs.jobstore` does)."""

from __future__ import annotations

import pytest

from xlr_runtime.errors import NotFoundError, StateError
from xlr_runtime.store import Store
from xlr_runtime.store.jobs import JobRow, definition_sha256

NOW = 1_700_000_000.0


def row(uuid: str, name: str = "j", *, group: str = "", project: str = "p", definition: str = "any text") -> JobRow:
    return JobRow(uuid=uuid, project=project, group_path=group, name=name, definition=definition)


def test_a_row_comes_back_as_stored_whatever_its_definition(store: Store) -> None:
    store.jobs.ensure_project("p", now=NOW)
    stored = row("u-1", definition="not XML at all \u00e9")
    store.jobs.insert(stored, now=NOW)
    assert store.jobs.get("u-1") == stored
    assert store.jobs.get("u-2") is None
    digest = store.query_one("SELECT definition_sha256 FROM jobs WHERE uuid = 'u-1'")
    assert digest == {"definition_sha256": definition_sha256(stored.definition)}
    assert [(p.name, p.job_count) for p in store.jobs.projects()] == [("p", 1)]


def test_update_replaces_group_name_and_definition(store: Store) -> None:
    store.jobs.ensure_project("p", now=NOW)
    store.jobs.insert(row("u-1"), now=NOW)
    changed = row("u-1", "k", group="g", definition="other")
    store.jobs.update(changed, now=NOW + 1)
    assert store.jobs.get("u-1") == changed
    assert store.query_one("SELECT updated_at FROM jobs WHERE uuid = 'u-1'") == {"updated_at": NOW + 1}


def test_list_named_and_find(store: Store) -> None:
    store.jobs.ensure_project("p", now=NOW)
    for stored in (row("u-3", "a", group="ops"), row("u-2", "b", group="ops/db"), row("u-1", "c", group="opsx")):
        store.jobs.insert(stored, now=NOW)
    store.jobs.insert(row("u-4", "a"), now=NOW)
    assert [r.full_name for r in store.jobs.list("p")] == ["a", "ops/a", "ops/db/b", "opsx/c"]
    assert [r.full_name for r in store.jobs.list("p", group="ops")] == ["ops/a", "ops/db/b"]
    assert [r.uuid for r in store.jobs.list("p", name="a")] == ["u-4", "u-3"]
    assert [r.uuid for r in store.jobs.named("p", "ops", "a")] == ["u-3"]
    assert store.jobs.find("p", "/ops/db/b").uuid == "u-2"
    with pytest.raises(NotFoundError, match='no job "ops/x" in project "p"'):
        store.jobs.find("p", "ops/x")


def test_find_refuses_a_name_that_several_jobs_have(store: Store) -> None:
    store.jobs.ensure_project("p", now=NOW)
    store.jobs.insert(row("u-2"), now=NOW)
    store.jobs.insert(row("u-1"), now=NOW)
    with pytest.raises(StateError) as caught:
        store.jobs.find("p", "j")
    assert str(caught.value) == '2 jobs are called "j" in project "p": u-1, u-2'
    assert caught.value.hint == "Name the job by its uuid (-i)."


def test_delete_returns_the_row_and_labels_name_jobs_without_reading_them(store: Store) -> None:
    store.jobs.ensure_project("p", now=NOW)
    store.jobs.insert(row("u-1", group="g", definition="<unreadable"), now=NOW)
    assert store.jobs.label("u-1") == "p/g/j (u-1)"
    with pytest.raises(NotFoundError, match='no job with uuid u-1 in project "q"'):
        store.jobs.delete("q", "u-1")
    assert store.jobs.delete("p", "u-1") == row("u-1", group="g", definition="<unreadable")
    assert store.jobs.get("u-1") is None
    assert store.jobs.label("u-1") == "u-1"
