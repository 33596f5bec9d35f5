"""Job files run to the status their steps imply, with Rundeck's semantics: ``test`` alone exits 1, a missing
referenced job fails its step, a timeout stops a long sleep, options are checked and exposed, job references
pass arguments and run on their own filter, a webhook notification does not change the outcome, and a strategy
or node executor this runtime does not have fails the execution with the reason.

The job files are fixtures written for these tests (``tests/data/rundeck/jobs``); the same checks against real
Rundeck job files are in ``test_rundeck_corpus_runs.py``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.notification_helpers import World, running_webhooks
from tests.rundeck_helpers import SERVER, Harness
from xlr_runtime.errors import JobDefinitionError, OptionValueError, StateError
from xlr_runtime.rundeck.jobs.model import Job
from xlr_runtime.rundeck.jobs.xml_codec import load_jobs_xml
from xlr_runtime.rundeck.nodes.resources import project_resources_dir
from xlr_runtime.store.executions import ExecutionStatus

DATA = Path(__file__).parent / "data" / "rundeck"
JOBS = DATA / "jobs"
S, F, T = ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.TIMEDOUT
UNSUPPORTED = "is not supported (use node-first, step-first or parallel)"


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    yield h
    h.close()


def _load(name: str, *, require_future: bool = True) -> list[Job]:
    path = JOBS / name
    return load_jobs_xml(path.read_bytes(), path=path, require_future=require_future)


def _add(harness: Harness, name: str, *, require_future: bool = True) -> dict[str, Job]:
    jobs = _load(name, require_future=require_future)
    harness.jobs.add("P", *jobs)
    return {job.full_name: job for job in jobs}


CASES = [
    ("script-forms.xml", "examples/scripts/script forms", {}, F, "Step 3 failed: Result: 1"),
    ("log-limit.xml", "chatty", {}, S, None),
    ("test-alone.xml", "nightly/checks/probe", {}, F, "Step 1 failed: Result: 1"),
    ("plugin-notifications.xml", "notified", {}, F, "Step 1 failed: Result: 1"),
    ("unknown-strategy.xml", "rolling", {}, F, f"workflow strategy 'round-robin' {UNSUPPORTED}"),
    ("webhook-handwritten.xml", "demo/hooks/announce", {}, S, None),
    ("reference-chain.xml", "release/chain/ship", {}, S, None),
    ("option-regex.xml", "close ticket", {"ticket": "OPS-42"}, S, None),
    (
        "missing-reference.xml",
        "deploy/steps/main",
        {"colour": "green"},
        F,
        "Step 3 failed: no job 'deploy/steps/helper' in project 'P'",
    ),
    ("missing-by-name.xml", "Caller", {}, F, "Step 1 failed: no job 'Worker' in project 'P'"),
    ("jobref-filter.xml", "Fan out", {}, F, "Step 1 failed: no job 'Child' in project 'P'"),
    ("handler-keeps-going.xml", "tolerant", {}, S, None),
    ("timeout.xml", "slow", {}, T, "Execution timed out"),
]


@pytest.mark.parametrize(("file", "job", "options", "status", "failure"), CASES)
def test_job_runs_to_the_status_its_steps_imply(
    harness: Harness, file: str, job: str, options: dict[str, str], status: ExecutionStatus, failure: str | None
) -> None:
    target = _add(harness, file)[job]
    execution = harness.run(target, options)
    assert (execution.status, execution.failure) == (status, failure), harness.output(execution.id)


def test_script_forms_run_directly_through_an_interpreter_and_stop_at_the_failure(harness: Harness) -> None:
    execution = harness.run(_add(harness, "script-forms.xml")["examples/scripts/script forms"])
    assert harness.output(execution.id) == ["direct: one", "through sh: two", "about to fail"]


def test_output_under_the_log_limit_is_kept(harness: Harness) -> None:
    execution = harness.run(_add(harness, "log-limit.xml")["chatty"])
    assert harness.output(execution.id) == ["1", "2", "3"]


def test_a_schedule_in_the_past_is_refused_on_import_but_the_job_still_runs(harness: Harness) -> None:
    with pytest.raises(JobDefinitionError) as info:
        _load("past-schedule.xml")
    assert str(info.value) == (  # located at the <schedule> element
        f'{JOBS / "past-schedule.xml"}:7: job "weekly report": invalid schedule "0 15 3 ? * MON 2011-2015": '
        "it will never fire again"
    )
    execution = harness.run(_add(harness, "past-schedule.xml", require_future=False)["reports/weekly report"])
    assert (execution.status, execution.failure) == (F, "Step 1 failed: Result: 1")


def test_a_reference_chain_runs_every_link_with_the_passed_argument(harness: Harness) -> None:
    execution = harness.run(_add(harness, "reference-chain.xml")["release/chain/ship"])
    assert harness.output(execution.id) == ["shipping", "compiling for arm64", "fetching sources"]


def test_a_required_option_is_refused_when_missing_and_checked_against_its_regex(harness: Harness) -> None:
    job = _add(harness, "option-regex.xml")["close ticket"]
    with pytest.raises(OptionValueError) as missing:
        harness.service.start("P", job, {})
    assert str(missing.value) == "option 'ticket' is required"
    with pytest.raises(OptionValueError) as mismatch:
        harness.service.start("P", job, {"ticket": "ops-42"})
    assert (
        str(mismatch.value) == "option 'ticket': value 'ops-42' does not match the regular expression '[A-Z]+-[0-9]+'"
    )
    execution = harness.run(job, {"ticket": "OPS-42"})
    assert harness.output(execution.id) == ["closing OPS-42"]


def test_options_reach_exec_script_tokens_environment_and_arguments_before_the_missing_job(harness: Harness) -> None:
    execution = harness.run(_add(harness, "missing-reference.xml")["deploy/steps/main"], {"colour": "green"})
    assert harness.output(execution.id) == [
        "hello from exec",
        "env: hello",
        f"token: hello on {SERVER}",
        "argument: green",
    ]


def test_use_name_ignores_a_job_that_only_shares_the_uuid(harness: Harness) -> None:
    jobs = _add(harness, "missing-by-name.xml")
    execution = harness.run(jobs["Caller"])
    assert "wrong job" not in harness.output(execution.id)
    assert execution.failure == "Step 1 failed: no job 'Worker' in project 'P'"


def test_a_reference_by_name_runs_the_child_on_the_reference_filter(harness: Harness) -> None:
    parent = _add(harness, "jobref-filter.xml")["Fan out"]
    _add(harness, "jobref-filter-child.xml")
    execution = harness.run(parent)
    assert (execution.status, harness.output(execution.id)) == (S, [f"child on {SERVER}"])


def test_a_handler_that_succeeds_with_keepgoing_on_success_lets_the_job_go_on(harness: Harness) -> None:
    execution = harness.run(_add(harness, "handler-keeps-going.xml")["tolerant"])
    assert harness.output(execution.id) == ["handled the missing job", "after the handler"]


def test_the_timeout_stops_the_sleeping_step(harness: Harness) -> None:
    execution = harness.run(_add(harness, "timeout.xml")["slow"])
    assert harness.output(execution.id) == ["started"]


def test_a_job_on_an_ssh_node_without_its_key_fails_on_that_node_in_one_line(harness: Harness) -> None:
    resources = project_resources_dir(harness.root, "P")
    resources.mkdir(parents=True)
    shutil.copy(DATA / "nodes" / "ssh.yaml", resources / "ssh.yaml")
    execution = harness.run(_add(harness, "ssh-node.xml")["remote check"])
    assert (execution.status, execution.failure) == (
        F,
        "Step 1 failed: node 'db-ssh' (db.internal:22): key storage keys/ops/db.key: no key is stored there",
    )


def test_a_job_with_executions_disabled_is_refused(harness: Harness) -> None:
    job = _add(harness, "disabled.xml")["maintenance/frozen"]
    with pytest.raises(StateError) as info:
        harness.service.start("P", job)
    assert str(info.value) == "job 'maintenance/frozen' has executions disabled (executionEnabled is false)"


def test_a_webhook_notification_is_sent_with_the_execution_tokens_expanded(tmp_path: Path) -> None:
    with running_webhooks() as (hooks, base):
        world = World(tmp_path)
        try:
            text = (JOBS / "webhook-handwritten.xml").read_text(encoding="utf-8").replace("http://hooks.invalid", base)
            (job,) = load_jobs_xml(text, path="webhook-handwritten.xml")
            world.jobs.add("P", job)
            started = world.service.start("P", job, {})
            world.service.run(until=lambda: world.service.final_of_chain(started.id).status.is_final, max_wait=0.02)
            world.service.join(5)
            world.notifier.dispatch_due()
            execution = world.service.final_of_chain(started.id)
        finally:
            world.store.close()
    assert (execution.status, execution.failure) == (S, None)
    assert [(r["method"], r["path"]) for r in hooks.requests] == [
        ("POST", f"/done?run={execution.id}&result=succeeded")
    ]
