"""Conformance: every XML example of Rundeck's job-v20 reference loads onto the model (placed in a minimal job, as
a user would paste it) and round-trips; the three that Rundeck refuses too are refused here with one located line.

The reference is read from the corpus (skipping with one reason when it is absent); the same element families
are tested on fixtures written for the suite in ``test_rundeck_xml_formats.py``.
"""

from __future__ import annotations

import functools
import re

import pytest

from tests.corpus import corpus
from xlr_runtime.errors import JobDefinitionError
from xlr_runtime.rundeck.jobs.model import (
    DataSet,
    EmailNotification,
    Job,
    JobPlugin,
    JobRefStep,
    ScriptKind,
    ScriptStep,
    Trigger,
)
from xlr_runtime.rundeck.jobs.xml_codec import dump_jobs_xml, load_jobs_xml

pytestmark = pytest.mark.corpus

REFERENCE_NAME = "job-v20.md"
#: The line of each XML block of the reference (the first line of its body); the first test checks them against
#: the file, so the examples can be parametrized without reading the corpus at collection time.
EXAMPLE_LINES = (
    41, 347, 405, 416, 521, 601, 607, 613, 621, 673, 742, 867, 877, 888, 897, 911, 928, 938, 949, 958, 971, 987,
    1031, 1055, 1106, 1119, 1185, 1365, 1402, 1412, 1441, 1454, 1466, 1479, 1483,
)  # fmt: skip
#: The one block that is not an example but a ``<joblist>`` with "..." placeholders.
PLACEHOLDERS = (41,)
SEQUENCE = "<sequence><command><exec>echo</exec></command></sequence>"
JOB_LEVEL = ("logging", "schedule", "dispatch", "nodefilters", "notification", "plugins")
REFUSED = {
    416: 'job "r": invalid schedule "02 00 06,07,08 ? * * 2010": it will never fire again',
    877: "invalid XML: CData section not finished",  # the reference writes "]>" for "]]>"
    938: "invalid XML: CData section not finished",
}


def _as_job_file(example: str) -> str:
    """The example inside a minimal ``<joblist>``, where Rundeck expects that element."""
    tag = str(re.match(r"<\s*([\w-]+)", example).group(1))  # type: ignore[union-attr]
    head = "<joblist><job><name>r</name><description/>"
    if tag in JOB_LEVEL:
        node_filter = "<nodefilters><filter>.*</filter></nodefilters>" if tag == "dispatch" else ""
        return f"{head}{SEQUENCE}{example}{node_filter}</job></joblist>"
    wrapped = {
        "options": f"{SEQUENCE}<context>{example}</context>",
        "option": f"{SEQUENCE}<context><options>{example}</options></context>",
        "errorhandler": f"<sequence><command><exec>false</exec>{example}</command></sequence>",
        "command": f"<sequence>{example}</sequence>",
        "jobref": f"<sequence><command>{example}</command></sequence>",
        "onstart": f"{SEQUENCE}<notification>{example}</notification>",
    }.get(tag)
    if wrapped is None:  # generic data: map, list, set, string
        wrapped = f"{SEQUENCE}<plugins><ExecutionLifecycle type='x'><configuration data='true'>{example}"
        wrapped += "</configuration></ExecutionLifecycle></plugins>"
    return f"{head}{wrapped}</job></joblist>"


@functools.cache
def _examples() -> dict[int, str]:
    """The reference's XML blocks by line number (the first line of the block's body)."""
    text = corpus("rundeck", "reference", REFERENCE_NAME).read_text(encoding="utf-8")
    return {
        text[: match.start()].count("\n") + 2: match.group(1).strip()
        for match in re.finditer(r"```xml\n(.*?)```", text, re.S)
    }


def _load(line: int) -> Job:
    (job,) = load_jobs_xml(_as_job_file(_examples()[line]), path=f"{REFERENCE_NAME}:{line}")
    return job


USABLE = sorted(set(EXAMPLE_LINES) - set(REFUSED) - set(PLACEHOLDERS))


def test_the_examples_are_all_accounted_for() -> None:
    examples = _examples()
    assert len(examples) == 35
    assert tuple(sorted(examples)) == EXAMPLE_LINES
    assert [line for line, text in examples.items() if text.startswith("<joblist>")] == list(PLACEHOLDERS)


@pytest.mark.parametrize("line", USABLE)
def test_reference_example_loads_and_round_trips(line: int) -> None:
    job = _load(line)
    exported = dump_jobs_xml([job])
    assert load_jobs_xml(exported, path="again.xml") == [job]
    assert dump_jobs_xml(load_jobs_xml(exported, path="again.xml")) == exported


@pytest.mark.parametrize("line", sorted(REFUSED))
def test_examples_rundeck_refuses_too_fail_with_one_located_line(line: int) -> None:
    with pytest.raises(JobDefinitionError) as caught:
        _load(line)
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith(f"{REFERENCE_NAME}:{line}:")
    assert str(caught.value).endswith(REFUSED[line])


def test_reference_values_land_in_the_model() -> None:
    logging = _load(347)
    assert (logging.log_limit, logging.log_limit_action, logging.log_limit_status) == ("1KB", "halt", "aborted")
    assert _load(405).schedule is not None
    (port,) = _load(613).options
    assert (port.values, port.enforced, port.value) == (("80", "8080", "8888"), True, "80")
    dispatch = _load(673).dispatch
    assert (dispatch.threadcount, dispatch.keepgoing, dispatch.rank_order) == ("1", False, "descending")
    interpreted = _load(987).sequence.steps[0]
    assert isinstance(interpreted, ScriptStep) and interpreted.kind is ScriptKind.SCRIPTURL
    assert (interpreted.interpreter, interpreted.args_quoted) == ("sudo -u usera sh -c ", True)  # text is kept verbatim
    jobref = _load(1055).sequence.steps[0]
    assert isinstance(jobref, JobRefStep) and jobref.dispatch is not None
    assert (jobref.node_filter, jobref.dispatch.rank_attribute) == ("tags: production+appserver", "nodename")
    notified = _load(1185).notifications  # <onfailure> is written twice there: both are kept
    assert set(notified) == set(Trigger) - {Trigger.ON_RETRYABLE_FAILURE}
    assert [(n.recipients, n.subject) for n in notified[Trigger.ON_FAILURE] if isinstance(n, EmailNotification)] == [
        ("test@example.com,foo@example.com", None),
        ("test@example.com,foo@example.com", "Job will be retried"),
    ]
    generic_set = JobPlugin(type="x", configuration=DataSet(("a string value", "other value")))
    assert _load(1466).plugins == {"ExecutionLifecycle": (generic_set,)}
