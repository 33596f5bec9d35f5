"""Every XML example of Rundeck's job-v20 reference loads onto the model (placed in a minimal job, as a user would
paste it) and round-trips; the three that Rundeck refuses too are refused here with one located line."""

from __future__ import annotations

import re

import pytest

from tests.conftest import CORPUS
from xlr_runtime.errors import JobDefinitionError
from xlr_runtime.rundeck.model import (
    DataSet,
    EmailNotification,
    Job,
    JobPlugin,
    JobRefStep,
    ScriptKind,
    ScriptStep,
    Trigger,
)
from xlr_runtime.rundeck.xml_codec import dump_jobs_xml, load_jobs_xml

REFERENCE = CORPUS / "rundeck" / "reference" / "job-v20.md"
TEXT = REFERENCE.read_text(encoding="utf-8")
#: The reference's XML blocks by line number (the first line of the block's body).
EXAMPLES = {
    TEXT[: match.start()].count("\n") + 2: match.group(1).strip()
    for match in re.finditer(r"```xml\n(.*?)```", TEXT, re.S)
}
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


def _load(line: int) -> Job:
    (job,) = load_jobs_xml(_as_job_file(EXAMPLES[line]), path=f"{REFERENCE.name}:{line}")
    return job


USABLE = sorted(line for line, text in EXAMPLES.items() if line not in REFUSED and not text.startswith("<joblist>"))


def test_the_examples_are_all_accounted_for() -> None:
    assert len(EXAMPLES) == 35
    assert [line for line, text in EXAMPLES.items() if text.startswith("<joblist>")] == [41]  # "..." placeholders


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
    assert str(caught.value).startswith(f"{REFERENCE.name}:{line}:")
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
