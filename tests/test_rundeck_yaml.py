"""The job YAML codec: Rundeck's key mapping onto the same model, and a canonical, stable export."""

from __future__ import annotations

import textwrap
import time

import pytest

from xlr_runtime.errors import JobDefinitionError
from xlr_runtime.rundeck.jobs.model import (
    EmailNotification,
    ExecStep,
    Job,
    JobPlugin,
    JobRefStep,
    Option,
    PluginNotification,
    PluginStep,
    Schedule,
    ScriptKind,
    ScriptStep,
    Trigger,
    WebhookNotification,
    Workflow,
)
from xlr_runtime.rundeck.jobs.xml_codec import dump_jobs_xml, load_jobs_xml
from xlr_runtime.rundeck.jobs.yaml_codec import dump_jobs_yaml, load_jobs_yaml

FULL = textwrap.dedent(
    """\
    - name: job name
      group: /ops/
      uuid: u-1
      description: |
        Performs a service
        more
      loglevel: DEBUG
      multipleExecutions: 'true'
      timeout: 6h 30m
      retry:
        delay: 1h1m1s
        retry: ${option.retry}
      loglimit: 100/node
      loglimitStatus: aborted
      options:
      - name: port
        value: '80'
        values: ['80', '8080']
        enforced: true
        required: true
        description: the port
      - name: list
        multivalued: true
        delimiter: ','
        secure: false
      schedule:
        time: {hour: '05', minute: '01', seconds: '0'}
        month: APR,MAR,MAY
        year: '*'
        weekday: {day: 'FRI,MON,TUE'}
      nodefilters:
        dispatch: {threadcount: 2, keepgoing: true, excludePrecedence: false, rankAttribute: rank,
                   rankOrder: descending}
        filter: 'tags: web name: web-.* !os-family: windows'
      nodesSelectedByDefault: false
      notifyAvgDurationThreshold: '+30'
      notification:
        onfailure:
        - email: {recipients: 'tom@example.com', attachLog: 'true'}
        - email: {recipients: manager@example.com, subject: JOB-FAILURE}
        onsuccess:
          urls: http://server/callback?id=${execution.id}
          httpMethod: post
          format: xml
          plugin: {type: my-plugin, configuration: {somekey: somevalue}}
      plugins:
        ExecutionLifecycle:
          myplugin: {}
          anotherPlugin: {prop1: value}
      sequence:
        keepgoing: true
        strategy: node-first
        commands:
        - exec: echo hi
          description: say hi
        - script: |-
            #!/bin/bash
            echo @option.test@
          args: a b
          scriptInterpreter: bash -c
          interpreterArgsQuoted: true
        - scriptfile: /path/to/script
          errorhandler: {exec: echo handled, keepgoingOnSuccess: true}
        - jobref:
            name: jobname
            group: group
            args: -a b
            nodeStep: 'true'
            nodefilters:
              dispatch: {threadcount: 1, keepgoing: false}
              filter: 'tags: web'
        - nodeStep: true
          type: copyfile
          configuration: {echo: true, sourcePath: /tmp/x}
    """
)


def test_the_documented_format_maps_onto_the_model() -> None:
    (job,) = load_jobs_yaml(FULL, path="jobs.yaml")
    assert (job.name, job.group, job.uuid, job.loglevel, job.multiple_executions) == (
        "job name",
        "ops",
        "u-1",
        "DEBUG",
        True,
    )
    assert job.description == "Performs a service\nmore\n"
    assert (job.retry, job.retry_delay, job.timeout) == ("${option.retry}", "1h1m1s", "6h 30m")
    assert (job.log_limit, job.log_limit_action, job.log_limit_status) == ("100/node", "halt", "aborted")
    assert job.options == (
        Option(name="port", value="80", values=("80", "8080"), enforced=True, required=True, description="the port"),
        Option(name="list", multivalued=True, delimiter=","),
    )
    assert job.schedule == Schedule("0", "01", "05", "?", "APR,MAR,MAY", "FRI,MON,TUE", "*")
    assert job.node_filter == "tags: web name: web-.* !os-family: windows"
    assert (job.dispatch.threadcount, job.dispatch.keepgoing, job.dispatch.exclude_precedence) == ("2", True, False)
    assert (job.dispatch.rank_attribute, job.dispatch.rank_order) == ("rank", "descending")
    assert job.nodes_selected_by_default is False
    assert job.notifications == {
        Trigger.ON_FAILURE: (
            EmailNotification(recipients="tom@example.com", attach_log=True),
            EmailNotification(recipients="manager@example.com", subject="JOB-FAILURE"),
        ),
        Trigger.ON_SUCCESS: (
            PluginNotification(type="my-plugin", configuration={"somekey": "somevalue"}),
            WebhookNotification(urls="http://server/callback?id=${execution.id}", format="xml", http_method="post"),
        ),
    }
    assert job.plugins == {
        "ExecutionLifecycle": (JobPlugin("anotherPlugin", {"prop1": "value"}), JobPlugin("myplugin"))
    }
    steps = job.sequence.steps
    assert steps[0] == ExecStep(command="echo hi", description="say hi")
    assert steps[1] == ScriptStep(
        kind=ScriptKind.SCRIPT,
        source="#!/bin/bash\necho @option.test@",
        args="a b",
        interpreter="bash -c",
        args_quoted=True,
    )
    assert steps[2] == ScriptStep(
        kind=ScriptKind.SCRIPTFILE,
        source="/path/to/script",
        errorhandler=ExecStep(command="echo handled", keepgoing_on_success=True),
    )
    assert isinstance(steps[3], JobRefStep)
    assert (steps[3].args, steps[3].node_step, steps[3].node_filter) == ("-a b", True, "tags: web")
    assert steps[4] == PluginStep(
        type="copyfile", node_step=True, configuration={"echo": "true", "sourcePath": "/tmp/x"}
    )


def test_yaml_and_xml_give_the_same_model() -> None:
    (from_yaml,) = load_jobs_yaml(FULL, path="jobs.yaml")
    (from_xml,) = load_jobs_xml(dump_jobs_xml([from_yaml]), path="jobs.xml")
    assert from_xml == from_yaml
    (back,) = load_jobs_yaml(dump_jobs_yaml([from_xml]), path="again.yaml")
    assert back == from_yaml


def test_export_is_canonical_and_stable() -> None:
    job = Job(
        name="j",
        uuid="u-1",
        description="two\nlines",
        schedule=Schedule.from_crontab("0 30 */6 ? Jan Mon *"),
        sequence=Workflow(steps=(ScriptStep(kind=ScriptKind.SCRIPT, source="echo a\necho b", args="x"),)),
    )
    exported = dump_jobs_yaml([job])
    assert exported == textwrap.dedent(
        """\
        - description: |-
            two
            lines
          executionEnabled: true
          id: u-1
          loglevel: INFO
          name: j
          nodeFilterEditable: true
          schedule:
            month: Jan
            time:
              hour: '*/6'
              minute: '30'
              seconds: '0'
            weekday:
              day: Mon
            year: '*'
          scheduleEnabled: true
          sequence:
            commands:
            - args: x
              script: |-
                echo a
                echo b
            keepgoing: false
            strategy: node-first
          uuid: u-1
        """
    )
    assert dump_jobs_yaml(load_jobs_yaml(exported, path="x.yaml")) == exported


def test_legacy_option_map_and_crontab_and_deprecated_include() -> None:
    document = textwrap.dedent(
        """\
        - name: a
          description: ''
          schedule: {crontab: '0 0 12 ? * MON-FRI'}
          options:
            zeta: {value: z}
            alpha: {sortIndex: 1}
            beta: {sortIndex: 0}
          nodefilters:
            include: {tags: web}
            exclude: {os-family: windows}
          sequence: {commands: [{exec: x}]}
        """
    )
    (job,) = load_jobs_yaml(document, path="a.yaml")
    assert [option.name for option in job.options] == ["beta", "alpha", "zeta"]
    assert job.schedule == Schedule("0", "0", "12", "?", "*", "MON-FRI", "*")
    assert job.node_filter == "tags: web !os-family: windows"


def test_notifications_repeating_a_kind_are_written_as_lists() -> None:
    job = Job(
        name="j",
        sequence=Workflow(steps=(ExecStep(command="x"),)),
        notifications={Trigger.ON_START: (WebhookNotification(urls="http://a"), WebhookNotification(urls="http://b"))},
    )
    exported = dump_jobs_yaml([job])
    assert "  notification:\n    onstart:\n    - urls: http://a\n    - urls: http://b\n" in exported
    assert load_jobs_yaml(exported, path="x.yaml") == [job]


def test_unknown_keys_are_kept() -> None:
    document = "- name: a\n  description: ''\n  sequence: {commands: [{exec: x, custom: 1}]}\n  jobQueue: {size: 5}\n"
    (job,) = load_jobs_yaml(document, path="a.yaml")
    exported = dump_jobs_yaml([job])
    assert "  jobQueue:\n    size: '5'\n" in exported
    assert "    - custom: '1'\n" in exported
    assert load_jobs_yaml(exported, path="b.yaml") == [job]


def _laughs(levels: int) -> str:
    """A job whose unknown key holds nested aliases: each level names the one below nine times (9**levels)."""
    lines = ["- name: x", "  description: ''", "  sequence: {commands: [{exec: x}]}", "  laughs:"]
    lines.append("  - &a0 [x, x, x, x, x, x, x, x, x]")
    lines += [f"  - &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def test_alias_expansion_is_bounded_as_in_rundecks_yaml_parser() -> None:
    started = time.monotonic()
    with pytest.raises(JobDefinitionError) as caught:
        load_jobs_yaml(_laughs(8), path="l.yaml")  # 9**8 lists if expanded: never ended before the bound
    assert time.monotonic() - started < 1
    assert str(caught.value) == (
        "l.yaml:10: invalid YAML: more than 50 aliases of lists or maps (the last one names the list or map here); "
        "Rundeck's YAML parser refuses them too"
    )
    with pytest.raises(JobDefinitionError) as caught:
        load_jobs_yaml(_laughs(4), path="l.yaml")  # 36 aliases, as Rundeck allows, expanded: 7381 lists
    assert str(caught.value) == (
        "l.yaml:1: invalid YAML: its aliases expand to 74718 more nodes than the file holds (at most 10000): write "
        "the values out, or use fewer aliases"
    )
    (job,) = load_jobs_yaml(_laughs(2), path="ok.yaml")
    assert len(job.extra) == 9 + 81 + 729  # the lists of "laughs", expanded (and flattened, as repeated keys)


def test_a_recursive_alias_is_refused() -> None:
    document = "- &job\n  name: x\n  description: ''\n  sequence: {commands: [{exec: x}]}\n  again: *job\n"
    with pytest.raises(JobDefinitionError) as caught:
        load_jobs_yaml(document, path="r.yaml")
    assert str(caught.value) == "r.yaml:1: invalid YAML: recursive alias: the list or map here holds an alias of itself"


def test_an_unknown_element_named_like_a_yaml_key_is_refused_on_yaml_export() -> None:
    document = (
        "<joblist><job><name>a</name><description/><options>x</options><custom>kept</custom>"
        "<sequence><command><exec>x</exec></command></sequence></job></joblist>"
    )
    (job,) = load_jobs_xml(document, path="a.xml")
    with pytest.raises(JobDefinitionError) as caught:
        dump_jobs_yaml([job])
    assert str(caught.value) == (
        'job "a": cannot be exported as YAML: it would not read back (options must be a map) (its elements Rundeck '
        "does not know: <custom>, <options>)"
    )
    assert caught.value.hint == "Export it as XML (--format xml), which keeps it as it is."
    xml = dump_jobs_xml([job])  # XML keeps it as it is
    assert dump_jobs_xml(load_jobs_xml(xml, path="again.xml")) == xml
    (plain,) = load_jobs_xml(document.replace("<options>x</options>", ""), path="b.xml")
    assert load_jobs_yaml(dump_jobs_yaml([plain]), path="b.yaml") == [plain]
