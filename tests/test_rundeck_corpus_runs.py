"""The corpus jobs that use only local exec, script and job-reference steps run to the status their steps
imply (Rundeck's semantics: `test` alone exits 1, a missing referenced job fails its step, a 5 s timeout
stops a 10 s sleep)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CORPUS
from tests.rundeck_helpers import Harness
from xlr_runtime.errors import OptionValueError
from xlr_runtime.rundeck.xml_codec import load_jobs_xml
from xlr_runtime.store.executions import ExecutionStatus

JOBS = CORPUS / "rundeck" / "jobs"
S, F, T = ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.TIMEDOUT


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    yield h
    h.close()


@pytest.mark.parametrize(
    ("file", "job", "options", "status", "failure"),
    [
        ("JobsXMLCodecSpec.groovy__L116.xml", "punch2", {}, F, "Step 3 failed: Result: 1"),
        ("JobsXMLCodecTests.groovy__L487.xml", "punch2", {}, S, None),
        ("JobsXMLCodecTests.groovy__L1424.xml", "some/group/wait1", {}, F, "Step 1 failed: Result: 1"),
        (
            "codecs__JobsXMLCodecSpec.groovy__L1162.xml",
            "test job 1",
            {},
            F,
            "workflow strategy 'teststrateg' is not supported (use node-first or step-first)",
        ),
        (
            "codecs__JobsXMLCodecSpec.groovy__L538.xml",
            "test job 1",
            {},
            F,
            "workflow strategy 'test' is not supported (use node-first or step-first)",
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
            "Step 1 failed: no job '59f6e0dd-be4e-446c-839a-f85cea40a9fc' in project 'P'",
        ),
        (
            "projects-import__JobTimeOutTest.rdproject__rundeck-JobTimeOutTest__jobs__"
            "job-1032a729-c251-4940-86b5-20f99cb5e769.xml",
            "jobTimeout",
            {},
            T,
            "Execution timed out",
        ),
    ],
)
def test_corpus_job_runs(
    harness: Harness, file: str, job: str, options: dict[str, str], status: ExecutionStatus, failure: str | None
) -> None:
    jobs = load_jobs_xml((JOBS / file).read_bytes(), path=JOBS / file, require_future=False)
    harness.jobs.add("P", *jobs)
    (target,) = [j for j in jobs if j.full_name == job]
    execution = harness.run(target, options)
    assert (execution.status, execution.failure) == (status, failure), harness.output(execution.id)


def test_corpus_job_execution_state_runs_the_whole_reference_chain(harness: Harness) -> None:
    path = JOBS / "test-files__api-test-execution-state.xml"
    jobs = load_jobs_xml(path.read_bytes(), path=path)
    harness.jobs.add("P", *jobs)
    (parent,) = [j for j in jobs if j.name == "parent"]
    execution = harness.run(parent)
    assert harness.output(execution.id) == [
        "hello world",
        "this is the child job",
        "this is the grandchild job",
    ]


def test_corpus_required_option_is_refused(harness: Harness) -> None:
    path = JOBS / "test-files__jobWithOptions.xml"
    (job,) = load_jobs_xml(path.read_bytes(), path=path)
    with pytest.raises(OptionValueError) as info:
        harness.service.start("P", job, {})
    assert str(info.value) == "option 'myOption' is required"
