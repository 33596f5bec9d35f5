"""Each part of Rundeck's job YAML format loads onto the model and round-trips through YAML and XML: descriptions,
retry (map and scalar), every step form, job references with their own nodes, options (list and map), schedules
(crontab and fields), node filters (filter string and the deprecated include/exclude maps), notifications (list and
map forms), the orchestrator and job plugins; a document that is not valid YAML is refused with one located line.

The files are fixtures written for these tests (``tests/data/rundeck/formats/yaml``, one part each); the examples
of Rundeck's own reference are checked in ``test_rundeck_yaml_reference.py`` when the corpus is there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.messages import PARSER_REASON, matches
from xlr_runtime.errors import JobDefinitionError
from xlr_runtime.rundeck.jobs.model import (
    EmailNotification,
    ExecStep,
    Job,
    JobPlugin,
    JobRefDispatch,
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
from xlr_runtime.rundeck.nodes.nodefilter import parse_filter

FORMATS = Path(__file__).parent / "data" / "rundeck" / "formats" / "yaml"
FILES = sorted(FORMATS.glob("*.yaml"))
USABLE = [path for path in FILES if not path.name.startswith("refused-")]


def _load(name: str) -> Job:
    path = FORMATS / name
    (job,) = load_jobs_yaml(path.read_bytes(), path=path)
    return job


def test_the_fixtures_are_there() -> None:
    assert len(USABLE) >= 15
    assert [path.name for path in FILES if path not in USABLE] == ["refused-bad-indent.yaml"]


@pytest.mark.parametrize("path", USABLE, ids=lambda p: p.name)
def test_every_example_loads_and_round_trips(path: Path) -> None:
    (job,) = load_jobs_yaml(path.read_bytes(), path=path)
    assert load_jobs_yaml(dump_jobs_yaml([job]), path="again.yaml") == [job]
    assert load_jobs_xml(dump_jobs_xml([job]), path="again.xml") == [job]
    yaml_text = dump_jobs_yaml([job])
    assert dump_jobs_yaml(load_jobs_yaml(yaml_text, path="again.yaml")) == yaml_text


def test_yaml_that_does_not_parse_is_one_located_line() -> None:
    path = FORMATS / "refused-bad-indent.yaml"
    with pytest.raises(JobDefinitionError) as caught:
        load_jobs_yaml(path.read_bytes(), path=path)
    # line 8 is the ``args:`` indented less than the step it belongs to
    assert matches(str(caught.value), f"{path}:8: invalid YAML: " + PARSER_REASON), str(caught.value)


def test_the_smallest_job_and_a_multi_line_description() -> None:
    minimal = _load("minimal.yaml")
    assert (minimal.name, minimal.description, minimal.loglevel) == ("smallest job", "", "INFO")
    assert minimal.sequence.steps == (ExecStep("echo the least a job needs"),)
    described = _load("description-markdown.yaml").description
    assert described.startswith("Rotates the logs\n\nThe first line is the summary; the rest is <em>HTML</em>")
    assert described.endswith("\n\n[runbook](https://wiki.invalid/logs)\n")  # a YAML block keeps its final newline


def test_retry_as_a_map_and_as_a_scalar() -> None:
    with_delay, at_once = _load("retry-map.yaml"), _load("retry-scalar.yaml")
    assert (with_delay.retry, with_delay.retry_delay) == ("${option.tries}", "2m30s")
    assert (at_once.retry, at_once.retry_delay) == ("${option.tries}", None)


def test_every_step_form() -> None:
    sequence = _load("steps.yaml").sequence
    assert (sequence.keepgoing, sequence.strategy) == (True, "node-first")
    exec_step, inline, scriptfile, scripturl, interpreted, jobref, plugin = sequence.steps
    assert exec_step == ExecStep("echo from exec")
    assert isinstance(inline, ScriptStep)
    assert (inline.kind, inline.source, inline.args) == (
        ScriptKind.SCRIPT,
        '#!/bin/sh\necho "inline, option says @option.mode@"',
        "--dry-run",
    )
    assert isinstance(scriptfile, ScriptStep) and isinstance(scripturl, ScriptStep)
    assert (scriptfile.kind, scriptfile.source, scriptfile.args) == (
        ScriptKind.SCRIPTFILE,
        "/opt/tools/tidy.sh",
        "--quiet",
    )
    assert (scripturl.kind, scripturl.source, scripturl.args) == (
        ScriptKind.SCRIPTURL,
        "https://scripts.invalid/tidy.sh",
        "--quiet",
    )
    assert isinstance(interpreted, ScriptStep)
    assert (interpreted.interpreter, interpreted.args_quoted) == ("bash -e", True)
    assert isinstance(jobref, JobRefStep)
    assert (jobref.group, jobref.name, jobref.args) == ("housekeeping", "purge caches", "-older-than 7d")
    assert isinstance(plugin, PluginStep)
    assert (plugin.type, plugin.node_step, plugin.configuration) == (
        "ticket-comment",
        False,
        {"ticket": "${option.ticket}", "text": "tidied"},
    )


def test_a_job_reference_with_its_own_nodes() -> None:
    (jobref,) = _load("jobref-dispatch.yaml").sequence.steps
    assert isinstance(jobref, JobRefStep)
    assert (jobref.group, jobref.name, jobref.args) == ("checks", "health", "-deep true")
    assert jobref.node_filter == "tags: api !os-family: windows"
    assert jobref.dispatch == JobRefDispatch(
        threadcount="4", keepgoing=True, rank_attribute="zone", rank_order="descending"
    )


def test_options_as_a_list_and_as_a_map() -> None:
    first, second = _load("options-list.yaml").options
    assert (first.name, first.value, first.required) == ("first", "one", False)
    assert (second.name, second.value, second.required) == ("second", None, True)
    (mode,) = _load("options-map.yaml").options
    assert (mode.name, mode.value, mode.values, mode.regex) == ("mode", "dry", ("dry", "real"), "^(dry|real)$")
    assert (mode.required, mode.multivalued, mode.delimiter) == (True, True, "+")
    assert mode.description == "How careful the run is.\n\n* dry: print only\n* real: change things\n"


def test_schedules_as_crontab_and_as_fields() -> None:
    crontab = _load("schedule-crontab.yaml").schedule
    assert crontab is not None and crontab.crontab == "0 45 */4 ? FEB WED *"  # Quartz names upper-cased
    fields = _load("schedule-fields.yaml").schedule
    assert fields is not None and fields.crontab == "0 15 07 ? JUN,JUL SAT,SUN *"  # a weekday given: dom is "?"


def test_node_filters_as_a_string_and_as_include_exclude_maps_are_the_same() -> None:
    as_string, as_maps = _load("nodefilters-filter.yaml"), _load("nodefilters-include-exclude.yaml")
    assert as_string.node_filter == "tags: api name: api-.* !os-family: windows"
    assert as_maps.node_filter is not None
    assert parse_filter(as_maps.node_filter) == parse_filter(as_string.node_filter)
    assert as_maps.dispatch == as_string.dispatch
    dispatch = as_string.dispatch
    assert (dispatch.threadcount, dispatch.keepgoing, dispatch.exclude_precedence) == ("2", False, True)
    assert (dispatch.rank_attribute, dispatch.rank_order) == ("zone", "descending")


def test_notifications_in_the_list_form() -> None:
    job = _load("notifications-list.yaml")
    assert set(job.notifications) == set(Trigger)
    assert job.notify_avg_duration_threshold == "+2m"
    assert job.notifications[Trigger.ON_START] == (
        EmailNotification("ops@example.com", subject="Started", attach_log=True, attach_log_in_file=True),
    )
    success = job.notifications[Trigger.ON_SUCCESS]
    assert len(success) == 2
    assert PluginNotification("chat-post", {"channel": "#ops"}) in success
    assert (
        WebhookNotification(
            "https://hooks.invalid/ok?id=${execution.id}&trigger=${notification.trigger}",
            format="json",
            http_method="post",
        )
        in success
    )
    assert job.notifications[Trigger.ON_FAILURE] == (  # two e-mails on one trigger, in order
        EmailNotification("ops@example.com,lead@example.com"),
        EmailNotification("manager@example.com", subject="Failed", attach_log=True, attach_log_inline=True),
    )
    assert job.notifications[Trigger.ON_RETRYABLE_FAILURE] == (
        PluginNotification("chat-post", {"channel": "#ops"}),
        PluginNotification("pager", {"severity": "low"}),
    )
    assert job.notifications[Trigger.ON_AVG_DURATION] == (EmailNotification("lead@example.com", subject="Slow"),)


def test_notifications_in_the_map_form() -> None:
    job = _load("notifications-map.yaml")
    assert set(job.notifications) == set(Trigger)
    assert job.notify_avg_duration_threshold == "+2m"
    success = job.notifications[Trigger.ON_SUCCESS]
    assert len(success) == 2
    assert (
        WebhookNotification("https://hooks.invalid/ok?id=${execution.id}", format="xml", http_method="get") in success
    )
    assert PluginNotification("chat-post", {"channel": "#ops"}) in success
    assert job.notifications[Trigger.ON_START] == (EmailNotification("ops@example.com", subject="Started"),)
    assert job.notifications[Trigger.ON_FAILURE] == (EmailNotification("ops@example.com,lead@example.com"),)
    assert job.notifications[Trigger.ON_RETRYABLE_FAILURE] == (PluginNotification("pager", {"severity": "low"}),)


def test_the_orchestrator_and_job_plugins() -> None:
    orchestrator = _load("orchestrator.yaml").orchestrator
    assert orchestrator is not None and dict(orchestrator.attributes) == {"type": "rankTiered"}
    plugins = _load("job-plugins.yaml").plugins
    assert plugins == {
        "ExecutionLifecycle": (JobPlugin("audit-trail"), JobPlugin("resource-lock", {"lock": "db", "wait": "30"}))
    }
