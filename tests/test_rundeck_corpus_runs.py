"""Conformance: the corpus jobs that use only local exec, script and job-reference steps run to the status their
steps imply (Rundeck's semantics: `test` alone exits 1, a missing referenced job fails its step, a 5 s timeout
stops a 10 s sleep).

Every feature here is also tested on fixtures written for the suite (``test_rundeck_job_runs.py``); this module
checks the same against real Rundeck job files, and skips (one reason) when the corpus is absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.corpus import corpus
from tests.rundeck_helpers import Harness
from xlr_runtime.errors import OptionValueError, StateError
from xlr_runtime.rundeck.jobs.xml_codec import load_jobs_xml
from xlr_runtime.store.executions import ExecutionStatus

pytestmark = pytest.mark.corpus

S, F, T = ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.TIMEDOUT


@pytest.fixture
def jobs_dir() -> Path:
    """The corpus's Rundeck job files."""
    return corpus("rundeck", "jobs")


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    yield h
    h.close()


CASES = [
    ("JobsXMLCodecSpec.groovy__L116.xml", "punch2", {}, F, "Step 3 failed: Result: 1"),
    ("JobsXMLCodecTests.groovy__L487.xml", "punch2", {}, S, None),
    ("JobsXMLCodecTests.groovy__L1424.xml", "some/group/wait1", {}, F, "Step 1 failed: Result: 1"),
    (
        "codecs__JobsXMLCodecSpec.groovy__L1162.xml",
        "test job 1",
        {},
        F,
        "workflow strategy 'teststrateg' is not supported (use node-first, step-first or parallel)",
    ),
    (
        "codecs__JobsXMLCodecSpec.groovy__L538.xml",
        "test job 1",
        {},
        F,
        "workflow strategy 'test' is not supported (use node-first, step-first or parallel)",
    ),
    (
        "projects-import__webhook-notification-project__rundeck-test-notification__jobs__"
        "job-b7046ab7-b219-4c58-89aa-bcb8b3b2af9b.xml",
        "api-test/job-run-webhook/webhook job",
        {},
        S,
        None,
    ),
    ("test-files__api-test-execution-state.xml", "api-test/execution-state/parent", {}, S, None),
    ("test-files__jobWithOptions.xml", "jobWithOptions", {"myOption": "a1"}, S, None),
    (
        "projects-import__TestJobs__rundeck-TestJobs__jobs__job-9b43e4ab-7ff2-4159-9fc7-7437901914f7.xml",
        "api-test/job-run-steps/test job",
        {"opt2": "b"},
        F,
        "Step 4 failed: no job 'api-test/job-run-steps/secondary job' in project 'P'",
    ),
    (
        "projects-import__jobref__ImportOptionsTest.rdproject__rundeck-ImportOptionsTest__jobs__"
        "job-ffc04705-13c1-47b7-840e-3f23f0dd4f86.xml",
        "ParentJob",
        {},
        F,
        "Step 1 failed: no job 'ChildJob' in project 'P'",  # useName: by name
    ),
    (
        "projects-import__JobTimeOutTest.rdproject__rundeck-JobTimeOutTest__jobs__"
        "job-1032a729-c251-4940-86b5-20f99cb5e769.xml",
        "jobTimeout",
        {},
        T,
        "Execution timed out",
    ),
    ("JobsXMLCodecTests.groovy__L1651.xml", "wait1", {}, F, "Step 1 failed: no job 'bob' in project 'P'"),
    ("JobsXMLCodecTests.groovy__L2456.xml", "wait1", {}, F, "Step 1 failed: Result: 1"),
    ("JobsXMLCodecTests.groovy__L2499.xml", "wait1", {}, F, "Step 1 failed: Result: 1"),
    ("JobsXMLCodecTests.groovy__L2744.xml", "wait1", {}, F, "Step 1 failed: Result: 1"),
    ("JobsXMLCodecTests.groovy__L420.xml", "simple/punch2", {}, F, "Step 1 failed: Result: 1"),
    (  # the referenced job was deleted; the handler succeeds with keepgoingOnSuccess: the job succeeds
        "projects-import__error-handler-project__error-handler-project__jobs__"
        "job-f9b34a63-ff95-41f4-9646-87d90b35fc3d.xml",
        "Reference Job of deleted job",
        {},
        S,
        None,
    ),
    (  # useName: looked up by name, not by the uuid it also carries
        "projects-import__jobref__JobRefThreadCountTest.rdproject__rundeck-JobRefThreadCountTest__jobs__"
        "job-9b559a6a-4578-4a8c-9c55-3e7ab2056341.xml",
        "ParentJob",
        {},
        F,
        "Step 1 failed: no job 'ChildJob' in project 'P'",
    ),
]


@pytest.mark.parametrize(("file", "job", "options", "status", "failure"), CASES)
def test_corpus_job_runs(
    jobs_dir: Path,
    harness: Harness,
    file: str,
    job: str,
    options: dict[str, str],
    status: ExecutionStatus,
    failure: str | None,
) -> None:
    jobs = load_jobs_xml((jobs_dir / file).read_bytes(), path=jobs_dir / file, require_future=False)
    harness.jobs.add("P", *jobs)
    (target,) = [j for j in jobs if j.full_name == job]
    execution = harness.run(target, options)
    assert (execution.status, execution.failure) == (status, failure), harness.output(execution.id)


def test_corpus_job_execution_state_runs_the_whole_reference_chain(jobs_dir: Path, harness: Harness) -> None:
    path = jobs_dir / "test-files__api-test-execution-state.xml"
    jobs = load_jobs_xml(path.read_bytes(), path=path)
    harness.jobs.add("P", *jobs)
    (parent,) = [j for j in jobs if j.name == "parent"]
    execution = harness.run(parent)
    assert harness.output(execution.id) == [
        "hello world",
        "this is the child job",
        "this is the grandchild job",
    ]


def test_corpus_required_option_is_refused(jobs_dir: Path, harness: Harness) -> None:
    path = jobs_dir / "test-files__jobWithOptions.xml"
    (job,) = load_jobs_xml(path.read_bytes(), path=path)
    with pytest.raises(OptionValueError) as info:
        harness.service.start("P", job, {})
    assert str(info.value) == "option 'myOption' is required"


SSH_JOB = "projects-import__core-sshj-executor-test__rundeck-executor-test__jobs__" + (
    "job-fbf165bd-b5d9-44a7-98b9-fb8aa273ff9d.xml"
)
DISABLED_JOB = "test-files__job-template-common.xml"
#: Corpus jobs not run above, and why.
NOT_RUN = {
    "projects-import__LogDataStepTest.rdproject__rundeck-LogDataStepTest__jobs__"
    "job-1b560606-909d-43c0-aaa6-77894f2fc952.xml": "step-plugin log-data-step (a Rundeck built-in plugin)",
    "projects-import__core-jsch-executor-test__rundeck-executor-test__jobs__"
    "job-a5fbe8c2-1a8b-4a6f-ae34-92e5b3d4f8a9.xml": "node-step-plugin copyfile on SSH nodes",
    "projects-import__core-jsch-executor-test__rundeck-executor-test__jobs__"
    "job-c14c992d-4738-44b8-945e-9349ae487b77.xml": "scripturl on http://mock-server, a host of Rundeck's own test "
    "setup (SSH nodes run: tests/test_rundeck_ssh.py)",
    "test__docker__dockers__rundeckansible__config__ansible-jobs.xml": "Ansible step plugins on Ansible nodes",
}


def test_every_corpus_job_file_is_run_or_excluded_with_a_reason(jobs_dir: Path) -> None:
    run = {case[0] for case in CASES} | {SSH_JOB, DISABLED_JOB}
    assert not run & set(NOT_RUN)
    assert sorted(run | set(NOT_RUN)) == sorted(path.name for path in jobs_dir.iterdir())


def test_corpus_job_ref_by_name_runs_the_child_on_the_overriding_filter(jobs_dir: Path, harness: Harness) -> None:
    path = jobs_dir / (
        "projects-import__jobref__JobRefThreadCountTest.rdproject__rundeck-JobRefThreadCountTest__jobs__"
        "job-9b559a6a-4578-4a8c-9c55-3e7ab2056341.xml"
    )
    jobs = load_jobs_xml(path.read_bytes(), path=path)
    harness.jobs.add("P", *jobs)
    harness.add(
        "<joblist><job><name>ChildJob</name><description/><sequence><command><exec>echo child on ${node.name}</exec>"
        "</command></sequence></job></joblist>"
    )
    execution = harness.run(jobs[0])
    assert (execution.status, harness.output(execution.id)) == (S, ["child on srv"])


def test_corpus_job_on_an_ssh_node_without_its_password_fails_on_that_node(jobs_dir: Path, harness: Harness) -> None:
    path = jobs_dir / SSH_JOB
    resources = harness.root / "projects" / "P" / "resources"
    resources.mkdir(parents=True)
    (resources / "sshj-node.yaml").write_bytes(corpus("rundeck", "nodes", "sshj-node.yaml").read_bytes())
    (job,) = load_jobs_xml(path.read_bytes(), path=path)
    execution = harness.run(job)
    assert (execution.status, execution.failure) == (
        F,
        "Step 1 failed: node 'password-node' (ssh-node:22): key storage "
        "keys/project/core-sshj-executor-test/ssh-node.pass: no key is stored there",
    )


def test_corpus_job_with_executions_disabled_is_refused(jobs_dir: Path, harness: Harness) -> None:
    path = jobs_dir / DISABLED_JOB
    (job,) = load_jobs_xml(path.read_bytes(), path=path, require_future=False)
    with pytest.raises(StateError) as info:
        harness.service.start("P", job)
    assert (
        str(info.value) == "job 'xml-job-group-name/xml-job-name' has executions disabled (executionEnabled is false)"
    )
