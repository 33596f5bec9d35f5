"""Conformance: every YAML example of Rundeck's job-yaml-v12 reference loads onto the model, and round-trips (YAML
and XML).

The reference's fragments (a ``retry`` map, a list of steps, an options map, …) are placed into a minimal job, as
a user would paste them. Two blocks are left out: the ``definition..`` placeholders and the two inline-script
examples whose ``args:`` line is mis-indented in the reference itself (not valid YAML, so Rundeck refuses them too).

The reference is read from the corpus (skipping with one reason when it is absent); the same parts of the format
are tested on fixtures written for the suite in ``test_rundeck_yaml_formats.py``.
"""

from __future__ import annotations

import functools
import re
import textwrap
from typing import Any

import pytest
import yaml

from tests.corpus import corpus
from xlr_runtime.rundeck.jobs.model import (
    EmailNotification,
    Job,
    JobRefStep,
    PluginNotification,
    PluginStep,
    ScriptKind,
    ScriptStep,
    Trigger,
    WebhookNotification,
)
from xlr_runtime.rundeck.jobs.xml_codec import dump_jobs_xml, load_jobs_xml
from xlr_runtime.rundeck.jobs.yaml_codec import dump_jobs_yaml, load_jobs_yaml

pytestmark = pytest.mark.corpus

REFERENCE_NAME = "job-yaml-v12.md"
#: The line of each YAML block of the reference (the first line of its body); the first test checks them against
#: the file, so the examples can be parametrized without reading the corpus at collection time.
EXAMPLE_LINES = (
    31, 75, 86, 143, 151, 228, 330, 353, 372, 387, 439, 482, 514, 525, 533, 545, 622, 638, 724, 731, 779, 828, 878,
    926, 977, 1003,
)  # fmt: skip
#: The blocks left out (see the first test): mis-indented (not YAML), ``definition..`` placeholders, names only.
BROKEN, PLACEHOLDERS, NAMES_ONLY = (330, 387), (525, 533), (31,)
BASE: dict[str, Any] = {"name": "ref", "description": "", "sequence": {"commands": [{"exec": "echo"}]}}


@functools.cache
def _examples() -> dict[int, Any]:
    """The reference's YAML blocks by line number (the first line of the block's body)."""
    text = corpus("rundeck", "reference", REFERENCE_NAME).read_text(encoding="utf-8")
    found: dict[int, Any] = {}
    for match in re.finditer(r"```yaml\n(.*?)```", text, re.S):
        line = text[: match.start()].count("\n") + 2
        try:
            found[line] = yaml.safe_load(textwrap.dedent(match.group(1)))
        except yaml.YAMLError:
            found[line] = None
    return found


def _as_job_file(data: Any) -> list[dict[str, Any]]:
    """A fragment placed into a minimal job, the way a user would paste it."""
    if isinstance(data, list) and "sequence" in data[0]:
        return data
    if isinstance(data, list):
        return [{**BASE, "sequence": {"commands": data}}]
    if "test" in data:
        return [{**BASE, "options": data}]
    if "orchestrator" in data and data["orchestrator"] is None:  # the reference mis-indents this example
        return [{**BASE, "orchestrator": {k: v for k, v in data.items() if k != "orchestrator"}}]
    return [{**BASE, **data}]


def _load(line: int) -> Job:
    (job,) = load_jobs_yaml(yaml.safe_dump(_as_job_file(_examples()[line])), path=f"{REFERENCE_NAME}:{line}")
    return job


def test_the_left_out_blocks_are_the_ones_named() -> None:
    examples = _examples()
    assert tuple(sorted(examples)) == EXAMPLE_LINES
    broken = sorted(line for line, data in examples.items() if data is None)
    placeholders = sorted(line for line, data in examples.items() if data is not None and "definition.." in str(data))
    names_only = sorted(
        line for line, data in examples.items() if isinstance(data, list) and data[0] == {"name": "..."}
    )
    assert (broken, placeholders, names_only) == ([330, 387], [525, 533], [31])
    assert (tuple(broken), tuple(placeholders), tuple(names_only)) == (BROKEN, PLACEHOLDERS, NAMES_ONLY)


USABLE = sorted(set(EXAMPLE_LINES) - set(BROKEN) - set(PLACEHOLDERS) - set(NAMES_ONLY))


@pytest.mark.parametrize("line", USABLE)
def test_reference_example_loads_and_round_trips(line: int) -> None:
    job = _load(line)
    assert load_jobs_yaml(dump_jobs_yaml([job]), path="again.yaml") == [job]
    assert load_jobs_xml(dump_jobs_xml([job]), path="again.xml") == [job]
    yaml_text = dump_jobs_yaml([job])
    assert dump_jobs_yaml(load_jobs_yaml(yaml_text, path="again.yaml")) == yaml_text


def test_reference_values_land_in_the_model() -> None:
    assert (_load(143).retry, _load(143).retry_delay) == ("${option.retry}", "1h1m1s")
    assert (_load(151).retry, _load(151).retry_delay) == ("${option.retry}", None)
    scriptfile, scripturl = _load(353).sequence.steps[0], _load(372).sequence.steps[0]
    assert isinstance(scriptfile, ScriptStep) and isinstance(scripturl, ScriptStep)
    assert (scriptfile.kind, scriptfile.source, scriptfile.args) == (
        ScriptKind.SCRIPTFILE, "/path/to/script", "arguments to script",
    )  # fmt: skip
    assert (scripturl.kind, scripturl.source) == (ScriptKind.SCRIPTURL, "http://example.com/path/to/script")
    jobref = _load(482).sequence.steps[0]
    assert isinstance(jobref, JobRefStep)
    assert (jobref.name, jobref.group, jobref.args, jobref.node_filter) == (
        "jobname", "group", "args", "tags: web name: web-.* !os-family: windows",
    )  # fmt: skip
    assert jobref.dispatch is not None
    assert (jobref.dispatch.threadcount, jobref.dispatch.keepgoing, jobref.dispatch.rank_order) == (
        "1", False, "descending",
    )  # fmt: skip
    plugin = _load(514).sequence.steps[0]
    assert isinstance(plugin, PluginStep)
    assert (plugin.type, plugin.node_step, plugin.configuration) == ("jenkins-build", False, {"job": "${option.job}"})
    (option,) = _load(622).options
    assert (option.name, option.value, option.values, option.delimiter, option.regex) == (
        "test", "dvalue", ("avalue", "bvalue", "cvalue"), ",", "^[abcd]value$",
    )  # fmt: skip
    description = "example option description\n\n* this content will be rendered\n* as markdown\n"
    assert _load(638).options[0].description == description
    assert _load(724).schedule is not None and _load(724).schedule.crontab == "0 30 */6 ? JAN MON *"
    assert _load(731).schedule is not None and _load(731).schedule.crontab == "0 01 05 ? APR,MAR,MAY FRI,MON,TUE *"


def test_reference_notifications_in_both_forms() -> None:
    listed, mapped = _load(878), _load(926)
    assert listed.notify_avg_duration_threshold == mapped.notify_avg_duration_threshold == "+30"
    failure = listed.notifications[Trigger.ON_FAILURE]
    assert [n.recipients for n in failure if isinstance(n, EmailNotification)] == [
        "tom@example.com,shirley@example.com",
        "manager@example.com",
    ]
    assert len(listed.notifications[Trigger.ON_RETRYABLE_FAILURE]) == 2
    success = mapped.notifications[Trigger.ON_SUCCESS]
    webhook = next(n for n in success if isinstance(n, WebhookNotification))
    assert (webhook.format, webhook.http_method) == ("xml", "post")
    assert PluginNotification("my-plugin", {"somekey": "somevalue"}) in success
    assert set(mapped.notifications) == set(Trigger)


def test_reference_job_plugins_and_orchestrator() -> None:
    plugins = _load(1003).plugins
    assert plugins is not None
    assert [(p.type, p.configuration) for p in plugins["ExecutionLifecycle"]] == [
        ("anotherPlugin", {"prop1": "value"}),
        ("myplugin", None),
    ]
    assert _load(977).orchestrator is not None
