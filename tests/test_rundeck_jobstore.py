"""Rundeck jobs in the store (:mod:`xlr_runtime.rundeck.jobs.jobstore`): projects, canonical definitions, and
``rd jobs load`` import rules."""

from __future__ import annotations

import dataclasses

import pytest

from xlr_runtime.errors import JobDefinitionError, NotFoundError, StateError
from xlr_runtime.rundeck.jobs.jobstore import ImportAction, JobStore
from xlr_runtime.rundeck.jobs.model import ExecStep, Job, RawElement, Schedule, Workflow
from xlr_runtime.rundeck.jobs.xml_codec import dump_jobs_xml
from xlr_runtime.store import Store

NOW = 1_700_000_000.0


def job(name: str = "j", *, group: str | None = None, uuid: str | None = None, command: str = "true") -> Job:
    return Job(name=name, group=group, uuid=uuid, sequence=Workflow(steps=(ExecStep(command=command),)))


def test_load_creates_projects_and_keeps_uuids(store: Store) -> None:
    results = JobStore(store).load("p", [job(uuid="u-1"), job("k", group="g")], now=NOW)
    assert [(r.action, r.job.name) for r in results] == [(ImportAction.CREATED, "j"), (ImportAction.CREATED, "k")]
    assert results[0].job.uuid == "u-1"
    assert results[1].job.uuid and len(results[1].job.uuid) == 36
    assert [(p.name, p.job_count) for p in store.jobs.projects()] == [("p", 2)]
    assert JobStore(store).get("u-1") == dataclasses.replace(job(uuid="u-1"), project="p")


def test_definitions_are_stored_canonically(store: Store) -> None:
    JobStore(store).load("p", [job(uuid="u-1")], now=NOW)
    row = store.query_one("SELECT definition FROM jobs WHERE uuid = 'u-1'")
    assert row is not None and row["definition"] == dump_jobs_xml([job(uuid="u-1")])


def test_dupe_option_update_skip_create(store: Store) -> None:
    JobStore(store).load("p", [job(uuid="u-1", command="one")], now=NOW)
    updated = JobStore(store).load("p", [job(uuid="u-1", command="two")], now=NOW + 1)
    assert updated[0].action is ImportAction.UPDATED
    assert JobStore(store).get("u-1").sequence.steps == (ExecStep(command="two"),)
    skipped = JobStore(store).load("p", [job(command="three")], now=NOW + 2, dupe_option="skip")
    assert (skipped[0].action, skipped[0].job.uuid) == (ImportAction.SKIPPED, "u-1")
    assert JobStore(store).get("u-1").sequence.steps == (ExecStep(command="two"),)
    created = JobStore(store).load("p", [job(command="four")], now=NOW + 3, dupe_option="create")
    assert created[0].action is ImportAction.CREATED and created[0].job.uuid != "u-1"
    assert len(JobStore(store).list("p")) == 2
    with pytest.raises(StateError, match='2 jobs are called "j" in project "p"'):
        JobStore(store).find("p", "j")


def test_create_with_a_taken_uuid_is_refused_as_rundeck_does(store: Store) -> None:
    JobStore(store).load("p", [job(uuid="u-1", group="g")], now=NOW)
    for project in ("p", "q"):
        with pytest.raises(JobDefinitionError) as caught:
            JobStore(store).load(project, [job("new"), job(uuid="u-1")], now=NOW, dupe_option="create")
        assert str(caught.value) == (
            'job "j": cannot create a job with uuid u-1: a job already exists with this uuid (p/g/j)'
        )
    assert [j.name for j in JobStore(store).list("p")] == ["j"]
    assert JobStore(store).list("q") == []


def test_a_uuid_matches_only_by_uuid_never_by_name(store: Store) -> None:
    first = JobStore(store).load("p", [job(group="g")], now=NOW)[0].job
    results = JobStore(store).load("p", [job(group="g", uuid="u-2", command="other")], now=NOW)
    assert (results[0].action, results[0].job.uuid) == (ImportAction.CREATED, "u-2")
    assert JobStore(store).get(str(first.uuid)).sequence.steps == (ExecStep(command="true"),)


def test_a_name_used_by_several_jobs_matches_none_of_them(store: Store) -> None:
    JobStore(store).load("p", [job(), job()], now=NOW, dupe_option="create")
    for dupe in ("update", "skip"):
        results = JobStore(store).load("p", [job(command=dupe)], now=NOW, dupe_option=dupe)
        assert results[0].action is ImportAction.CREATED
    assert len(JobStore(store).list("p")) == 4


def test_jobs_without_uuid_match_on_group_and_name(store: Store) -> None:
    first = JobStore(store).load("p", [job(group="a/b")], now=NOW)[0].job
    again = JobStore(store).load("p", [job(group="a/b", command="new")], now=NOW)[0]
    assert (again.action, again.job.uuid) == (ImportAction.UPDATED, first.uuid)
    other_group = JobStore(store).load("p", [job(group="a")], now=NOW)[0]
    assert other_group.action is ImportAction.CREATED


def test_uuid_option_remove_gives_new_uuids(store: Store) -> None:
    results = JobStore(store).load("p", [job(uuid="u-1")], now=NOW, uuid_option="remove")
    assert results[0].job.uuid != "u-1"
    with pytest.raises(NotFoundError, match="no job with uuid u-1"):
        JobStore(store).get("u-1")


def test_uuid_of_another_project_is_an_error_and_nothing_is_stored(store: Store) -> None:
    JobStore(store).load("p", [job(uuid="u-1")], now=NOW)
    with pytest.raises(JobDefinitionError) as caught:
        JobStore(store).load("q", [job("first"), job(uuid="u-1")], now=NOW)
    assert str(caught.value) == 'job "j": cannot create a job with uuid u-1: a job already exists with this uuid (p/j)'
    assert JobStore(store).list("q") == []
    assert [p.name for p in store.jobs.projects()] == ["p"]


def test_list_filters_by_group_prefix_and_name(store: Store) -> None:
    JobStore(store).load(
        "p", [job("a", group="ops"), job("b", group="ops/db"), job("c", group="opsx"), job("a")], now=NOW
    )
    assert [j.full_name for j in JobStore(store).list("p")] == ["a", "ops/a", "ops/db/b", "opsx/c"]
    assert [j.full_name for j in JobStore(store).list("p", group="ops")] == ["ops/a", "ops/db/b"]
    assert [j.full_name for j in JobStore(store).list("p", name="a")] == ["a", "ops/a"]
    assert JobStore(store).list("other") == []


def test_find_and_delete(store: Store) -> None:
    stored = JobStore(store).load("p", [job("x", group="g")], now=NOW)[0].job
    assert JobStore(store).find("p", "g/x").uuid == stored.uuid
    assert stored.uuid is not None
    with pytest.raises(NotFoundError, match=r'no job with uuid .* in project "q"'):
        JobStore(store).delete("q", stored.uuid)
    assert JobStore(store).delete("p", stored.uuid).name == "x"
    with pytest.raises(NotFoundError, match='no job "g/x" in project "p"'):
        JobStore(store).find("p", "g/x")


def test_a_stored_schedule_that_no_longer_fires_still_reads(store: Store) -> None:
    scheduled = Job(name="s", uuid="u-9", sequence=job().sequence, schedule=Schedule.from_crontab("0 0 12 ? * *"))
    JobStore(store).load("p", [scheduled], now=NOW)
    store.execute(
        "UPDATE jobs SET definition = replace(definition, ?, ?) WHERE uuid = 'u-9'", ["year='*'", "year='2001'"]
    )
    schedule = JobStore(store).get("u-9").schedule
    assert schedule is not None and schedule.year == "2001"


def test_invalid_project_name(store: Store) -> None:
    with pytest.raises(StateError, match='invalid project name "a/b"'):
        JobStore(store).load("a/b", [job()], now=NOW)


def test_a_job_whose_xml_would_not_read_back_is_not_stored(store: Store) -> None:
    JobStore(store).load("p", [job("kept", uuid="u-1")], now=NOW)
    bad = job("bad", command="echo \x1b[31m red")  # a model built by hand; the codecs refuse this first
    with pytest.raises(JobDefinitionError) as caught:
        JobStore(store).load("p", [job("new"), bad], now=NOW)
    assert str(caught.value) == (
        'job "bad": cannot be stored: its XML form does not read back (invalid XML: PCDATA invalid Char value 27)'
    )
    assert [j.name for j in JobStore(store).list("p")] == ["kept"]


def test_unknown_keys_that_are_not_xml_names_are_stored_escaped(store: Store) -> None:
    odd = dataclasses.replace(job("odd"), extra=(RawElement("1", text="one"), RawElement("-x", text="two")))
    (result,) = JobStore(store).load("p", [odd], now=NOW)
    assert "<element name='1'>one</element>" in dump_jobs_xml([odd])
    read = JobStore(store).get(str(result.job.uuid)).extra
    assert {(raw.tag, raw.text) for raw in read} == {("1", "one"), ("-x", "two")}


def test_a_stored_definition_that_no_longer_reads_says_which_and_can_be_deleted(store: Store) -> None:
    JobStore(store).load("p", [job("good", uuid="u-1"), job("bad", group="g", uuid="u-2")], now=NOW)
    store.execute("UPDATE jobs SET definition = replace(definition, 'true', ?) WHERE uuid = 'u-2'", ["x\x1b"])
    with pytest.raises(JobDefinitionError) as caught:
        JobStore(store).list("p")
    assert str(caught.value) == (
        'job "g/bad": the stored definition (p, uuid u-2) cannot be read: invalid XML: PCDATA invalid Char value 27'
    )
    assert caught.value.hint == "Delete it with 'xlr jobs delete -p p -i u-2' and load it again."
    assert JobStore(store).get("u-1").name == "good"
    assert store.jobs.find("p", "g/bad").uuid == "u-2"
    deleted = JobStore(store).delete("p", "u-2")
    assert (deleted.full_name, deleted.uuid, deleted.project) == ("g/bad", "u-2", "p")
    assert [j.name for j in JobStore(store).list("p")] == ["good"]


def test_set_enabled_rewrites_the_flags_in_the_definition(store: Store) -> None:
    JobStore(store).load("p", [job("j", uuid="u-1")], now=1.0)
    before = store.query_one("SELECT definition_sha256 FROM jobs WHERE uuid = 'u-1'")
    turned = JobStore(store).set_enabled("u-1", schedule=False, now=2.0)
    assert (turned.schedule_enabled, turned.execution_enabled) == (False, True)
    stored = JobStore(store).get("u-1")
    assert (stored.schedule_enabled, stored.execution_enabled) == (False, True)
    assert store.query_one("SELECT definition_sha256 FROM jobs WHERE uuid = 'u-1'") != before
    JobStore(store).set_enabled("u-1", schedule=True, execution=False, now=3.0)
    assert (JobStore(store).get("u-1").schedule_enabled, JobStore(store).get("u-1").execution_enabled) == (True, False)
    with pytest.raises(NotFoundError, match="no job with uuid nope"):
        JobStore(store).set_enabled("nope", schedule=True, now=4.0)
