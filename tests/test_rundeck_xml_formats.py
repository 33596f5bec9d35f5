"""Each element family of Rundeck's job XML format (job-v20) loads onto the model and round-trips: logging,
schedules, options, dispatch, node filters, error handlers, every command form, job references, plugin steps,
notifications and job plugins with generic data; documents Rundeck refuses are refused with one located line.

The files are fixtures written for these tests (``tests/data/rundeck/formats/xml``, one element family each); the
examples of Rundeck's own reference are checked in ``test_rundeck_xml_reference.py`` when the corpus is there.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xlr_runtime.errors import JobDefinitionError
from xlr_runtime.rundeck.jobs.model import (
    DataSet,
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

FORMATS = Path(__file__).parent / "data" / "rundeck" / "formats" / "xml"
FILES = sorted(FORMATS.glob("*.xml"))
USABLE = [path for path in FILES if not path.name.startswith("refused-")]


def _load(name: str) -> Job:
    path = FORMATS / name
    (job,) = load_jobs_xml(path.read_bytes(), path=path)
    return job


def test_the_fixtures_are_there() -> None:
    assert len(USABLE) >= 12
    assert [path.name for path in FILES if path not in USABLE] == [
        "refused-broken-cdata.xml",
        "refused-schedule-past.xml",
    ]


@pytest.mark.parametrize("path", USABLE, ids=lambda p: p.name)
def test_every_example_loads_and_round_trips(path: Path) -> None:
    (job,) = load_jobs_xml(path.read_bytes(), path=path)
    exported = dump_jobs_xml([job])
    assert load_jobs_xml(exported, path="again.xml") == [job]
    assert dump_jobs_xml(load_jobs_xml(exported, path="again.xml")) == exported


def test_a_schedule_that_never_fires_again_is_refused_at_its_element() -> None:
    path = FORMATS / "refused-schedule-past.xml"
    with pytest.raises(JobDefinitionError) as caught:
        load_jobs_xml(path.read_bytes(), path=path)
    assert str(caught.value) == f'{path}:5: job "r": invalid schedule "00 00 12 ? * * 2009": it will never fire again'


def test_an_unfinished_cdata_section_is_one_located_line() -> None:
    path = FORMATS / "refused-broken-cdata.xml"
    with pytest.raises(JobDefinitionError) as caught:
        load_jobs_xml(path.read_bytes(), path=path)
    assert "\n" not in str(caught.value)
    assert re.fullmatch(rf"{re.escape(str(path))}:\d+: invalid XML: CData section not finished", str(caught.value))


def test_logging() -> None:
    job = _load("logging.xml")
    assert (job.log_limit, job.log_limit_action, job.log_limit_status) == ("64KB", "halt", "aborted")


def test_schedule_elements_become_a_quartz_expression() -> None:
    # sec min hour dom mon dow year: a weekday given (and no day of month), so dom is "?"; seconds default to 0
    daily = _load("schedule.xml").schedule
    assert daily is not None and daily.crontab == "0 30 09,13,17 ? * * *"
    # a day of the month given, so dow is "?"; the fields are kept as written ("05", "04")
    quarterly = _load("schedule-month-day.xml")
    assert quarterly.schedule is not None and quarterly.schedule.crontab == "05 10 04 1 1,4,7,10 ? *"
    assert quarterly.time_zone == "Europe/Paris"


def test_options() -> None:
    verbose, retries, zone, zones, notes = _load("options.xml").options
    assert (verbose.name, verbose.value, verbose.values, verbose.enforced) == ("verbose", "false", None, False)
    assert (retries.value, retries.values, retries.regex, retries.enforced) == ("3", ("1", "3", "5"), "[0-9]+", False)
    assert (zone.values, zone.enforced, zone.multivalued) == (("eu", "us", "ap"), True, False)
    assert (zones.values, zones.enforced, zones.multivalued, zones.delimiter) == (("eu", "us", "ap"), True, True, " ")
    assert notes.description == "What this run is for.\n\n- shown as markdown\n- in the run form"


def test_dispatch() -> None:
    job = _load("dispatch.xml")
    assert job.node_filter == "tags: web"
    assert (job.dispatch.threadcount, job.dispatch.keepgoing) == ("3", True)
    assert (job.dispatch.rank_attribute, job.dispatch.rank_order) == ("rank", "descending")


def test_node_filters_with_an_exclude_filter_and_include_precedence() -> None:
    job = _load("nodefilters.xml")
    assert (job.node_filter, job.filter_exclude) == ("tags: web", "name: web-canary")
    assert job.dispatch.exclude_precedence is False


def test_error_handlers_of_every_kind() -> None:
    steps = _load("error-handlers.xml").sequence.steps
    assert all(isinstance(step, ExecStep) and step.command == "false" for step in steps)
    echo, script, scriptfile, jobref = (step.errorhandler for step in steps)
    assert isinstance(echo, ExecStep) and echo.command == "echo the command failed"
    assert isinstance(script, ScriptStep) and script.kind is ScriptKind.SCRIPT
    assert (script.source, script.keepgoing_on_success) == ("#!/bin/sh\necho cleaning up\nexit 0", True)
    assert isinstance(scriptfile, ScriptStep)
    assert (scriptfile.kind, scriptfile.source, scriptfile.args) == (
        ScriptKind.SCRIPTFILE,
        "/opt/hooks/on-failure.sh",
        "--notify ops",
    )
    assert isinstance(jobref, JobRefStep)
    assert (jobref.group, jobref.name, jobref.args) == ("support", "open incident", "-severity 2 -source handlers")


def test_every_command_form() -> None:
    exec_step, inline, scriptfile, scripturl, interpreted, quoted = _load("commands.xml").sequence.steps
    assert isinstance(exec_step, ExecStep)
    assert (exec_step.command, exec_step.description) == ("echo from exec", "Say where we are")
    assert isinstance(inline, ScriptStep) and inline.kind is ScriptKind.SCRIPT
    assert inline.source == "#!/bin/sh\necho from an inline script\nexit 0"
    assert isinstance(scriptfile, ScriptStep)
    assert (scriptfile.kind, scriptfile.source, scriptfile.args) == (
        ScriptKind.SCRIPTFILE,
        "/opt/tools/report.sh",
        "--since yesterday",
    )
    assert isinstance(scripturl, ScriptStep)
    assert (scripturl.kind, scripturl.source, scripturl.interpreter) == (
        ScriptKind.SCRIPTURL,
        "https://scripts.invalid/report.sh",
        None,
    )
    assert isinstance(interpreted, ScriptStep)
    assert (interpreted.interpreter, interpreted.args_quoted) == ("sudo -u reporter", False)
    assert isinstance(quoted, ScriptStep)
    assert (quoted.interpreter, quoted.args_quoted) == ("sudo -u reporter sh -c ", True)  # text kept verbatim


def test_job_references() -> None:
    plain, filtered = _load("jobrefs.xml").sequence.steps
    assert isinstance(plain, JobRefStep)
    assert (plain.group, plain.name, plain.args, plain.node_filter, plain.dispatch) == (
        "builds",
        "compile",
        "-branch main -clean true",
        None,
        None,
    )
    assert isinstance(filtered, JobRefStep)
    assert filtered.node_filter == "tags: staging+api"
    assert filtered.dispatch == JobRefDispatch(
        threadcount="2", keepgoing=True, rank_attribute="nodename", rank_order="descending"
    )


def test_plugin_steps() -> None:
    node_step, workflow_step = _load("plugin-steps.xml").sequence.steps
    assert isinstance(node_step, PluginStep) and isinstance(workflow_step, PluginStep)
    assert (node_step.type, node_step.node_step, node_step.configuration) == (
        "disk-check",
        True,
        {"path": "/var", "minimum": "10%"},
    )
    assert (workflow_step.type, workflow_step.node_step, workflow_step.configuration) == (
        "wait-for-ticket",
        False,
        {"queue": "CHG", "poll": "30"},
    )


def test_notifications_of_every_trigger_and_a_trigger_written_twice() -> None:
    job = _load("notifications.xml")
    assert set(job.notifications) == set(Trigger)
    assert job.notify_avg_duration_threshold == "+45s"
    assert job.notifications[Trigger.ON_FAILURE] == (  # both <onfailure> elements are kept, in order
        EmailNotification("oncall@example.com,lead@example.com"),
        EmailNotification("oncall@example.com,lead@example.com", subject="Failed, see the log", attach_log=True),
    )
    assert job.notifications[Trigger.ON_SUCCESS] == (
        EmailNotification("team@example.com"),
        WebhookNotification("https://hooks.invalid/done?id=${execution.id}"),
    )
    assert job.notifications[Trigger.ON_START] == (PluginNotification("chat-post", {"channel": "#deploys"}),)
    assert job.notifications[Trigger.ON_AVG_DURATION] == (
        EmailNotification("lead@example.com", subject="Slower than usual"),
        PluginNotification("pager"),
    )
    assert job.notifications[Trigger.ON_RETRYABLE_FAILURE] == (
        WebhookNotification("https://hooks.invalid/retry", format="json", http_method="post"),
    )


def test_job_plugins_with_generic_data() -> None:
    plugins = _load("job-plugins.xml").plugins
    assert plugins is not None
    by_type = {plugin.type: plugin for plugin in plugins["ExecutionLifecycle"]}
    assert by_type["bare"] == JobPlugin("bare")
    assert by_type["with-map"].configuration == {"colour": "blue", "size": "large"}
    assert by_type["with-list"].configuration == ["first", "second"]
    assert by_type["with-set"] == JobPlugin("with-set", DataSet(("north", "south")))
    assert isinstance(by_type["with-set"].configuration, DataSet)
    assert by_type["with-string"].configuration == "just text"
    assert by_type["with-lines"].configuration == "text\nover\nlines\n"
    assert by_type["nested"].configuration == {"steps": ["a", "b"], "limits": {"cpu/max": "2"}}
    assert len(by_type) == len(plugins["ExecutionLifecycle"]) == 7
