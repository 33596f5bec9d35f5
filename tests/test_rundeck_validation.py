"""Invalid job files fail with ``file:line: job "name": message`` and import nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.messages import PARSER_REASON, matches
from xlr_runtime.errors import JobDefinitionError
from xlr_runtime.rundeck.jobs.model import Option, Schedule
from xlr_runtime.rundeck.jobs.validation import deprecated_filter, validate_option, validate_schedule
from xlr_runtime.rundeck.jobs.xml_codec import dump_jobs_xml, load_jobs_xml
from xlr_runtime.rundeck.jobs.yaml_codec import load_jobs_yaml

SEQ = "<sequence><command><exec>x</exec></command></sequence>"
HEAD = "<joblist>\n<job><name>a</name><description/>"
TAIL = "</job></joblist>"
OPTIONS = HEAD + SEQ + "<context><options>\n{}</options></context>" + TAIL

XML_CASES = {
    "wrong root": ("<jobs/>", "f.xml:1: the root element must be <joblist>, not <jobs>"),
    "no job": ("<joblist/>", "f.xml:1: no <job> element found"),
    "not XML": (
        "<joblist><job>\n<name>x</job></joblist>",
        "f.xml:2: invalid XML: " + PARSER_REASON,
    ),
    "missing name": (f"<joblist>\n<job><description/>{SEQ}{TAIL}", "f.xml:2: job #1 has no <name>"),
    "missing description": (
        f"<joblist>\n<job><name>a</name>{SEQ}{TAIL}",
        'f.xml:2: job "a": missing <description> (it may be empty)',
    ),
    "missing sequence": (HEAD + TAIL, 'f.xml:2: job "a": missing <sequence>'),
    "empty sequence": (HEAD + "\n<sequence/>" + TAIL, 'f.xml:3: job "a": <sequence> has no <command>'),
    "command without a step": (
        HEAD + "<sequence>\n<command><description>x</description></command></sequence>" + TAIL,
        'f.xml:3: job "a": <command> has no step (exec, script, scriptfile, scripturl, jobref, node-step-plugin '
        "or step-plugin)",
    ),
    "jobref without name or uuid": (
        HEAD + "<sequence>\n<command><jobref/></command></sequence>" + TAIL,
        'f.xml:3: job "a": a job reference needs a name or a uuid',
    ),
    "crontab with both days": (
        HEAD + SEQ + "\n<schedule crontab='0 0 12 * * *'/>" + TAIL,
        'f.xml:3: job "a": invalid schedule "0 0 12 * * *": exactly one of day-of-month and day-of-week must be "?"',
    ),
    "crontab out of range": (
        HEAD + SEQ + "\n<schedule crontab='0 0 25 ? * *'/>" + TAIL,
        'f.xml:3: job "a": invalid schedule "0 0 25 ? * *": hours value 25 is not in 0-23',
    ),
    "crontab day of week 0": (
        HEAD + SEQ + "\n<schedule crontab='0 0 12 ? * 0'/>" + TAIL,
        'f.xml:3: job "a": invalid schedule "0 0 12 ? * 0": day-of-week value 0 is not in 1-7',
    ),
    "crontab too short": (
        HEAD + SEQ + "\n<schedule crontab='0 0 12 ?'/>" + TAIL,
        'f.xml:3: job "a": crontab "0 0 12 ?" must have 6 or 7 fields (sec min hour dom mon dow [year])',
    ),
    "crontab bad name": (
        HEAD + SEQ + "\n<schedule crontab='0 0 12 ? * FOO'/>" + TAIL,
        'f.xml:3: job "a": invalid schedule "0 0 12 ? * FOO": not a valid Quartz cron expression',
    ),
    "crontab in the past": (
        HEAD + SEQ + "\n<schedule crontab='0 0 12 ? * * 2010'/>" + TAIL,
        'f.xml:3: job "a": invalid schedule "0 0 12 ? * * 2010": it will never fire again',
    ),
    "schedule elements out of range": (
        HEAD + SEQ + "\n<schedule><time hour='24' minute='00'/><weekday day='*'/></schedule>" + TAIL,
        'f.xml:3: job "a": invalid schedule "0 00 24 ? * * *": hours value 24 is not in 0-23',
    ),
    "invalid option regex": (
        OPTIONS.format("<option name='o' regex='('/>"),
        'f.xml:3: job "a": option "o": invalid regex "(": missing ) at position 1',
    ),
    "a default the regex backtracks on without end": (
        OPTIONS.format(f"<option name='o' regex='(a|a)+$' value='{'a' * 40}!'/>"),
        f'f.xml:3: job "a": option "o": default value "{"a" * 40}!" took longer than 1s to match the regex "(a|a)+$" '
        "(simplify the regex)",
    ),
    "a catastrophic regex for re is a quick no": (
        OPTIONS.format(f"<option name='o' regex='(a+)+$' value='{'a' * 40}!'/>"),
        f'f.xml:3: job "a": option "o": default value "{"a" * 40}!" does not match the regex "(a+)+$"',
    ),
    "enforced default not in values": (
        OPTIONS.format("<option name='port' value='81' values='80,8080' enforcedvalues='true'/>"),
        'f.xml:3: job "a": option "port": default value "81" is not one of the allowed values (80,8080)',
    ),
    "enforced without values": (
        OPTIONS.format("<option name='e' enforcedvalues='true'/>"),
        'f.xml:3: job "a": option "e": enforcedvalues needs a values list or a valuesUrl',
    ),
    "secure default is not shown": (
        OPTIONS.format("<option name='pw' value='hunter2' regex='\\d+' secure='true'/>"),
        'f.xml:3: job "a": option "pw": default value (secure, not shown) does not match the regex "\\d+"',
    ),
    "default not matching regex": (
        OPTIONS.format("<option name='o' regex='\\d+' value='abc'/>"),
        'f.xml:3: job "a": option "o": default value "abc" does not match the regex "\\d+"',
    ),
    "invalid option name": (
        OPTIONS.format("<option name='my opt'/>"),
        'f.xml:3: job "a": invalid option name "my opt": use letters, digits, "_", ".", "+" or "-"',
    ),
    "duplicate option": (
        OPTIONS.format("<option name='o'/><option name='o'/>"),
        'f.xml:2: job "a": option "o" is defined more than once',
    ),
    "multivalued without delimiter": (
        OPTIONS.format("<option name='m' multivalued='true'/>"),
        'f.xml:3: job "a": option "m": a multivalued option needs a delimiter',
    ),
    "secure multivalued": (
        OPTIONS.format("<option name='s' multivalued='true' delimiter=',' secure='true'/>"),
        'f.xml:3: job "a": option "s": a secure option cannot be multivalued',
    ),
    "storagePath outside key storage": (
        OPTIONS.format("<option name='s' secure='true' storagePath='project/db'/>"),
        'f.xml:3: job "a": option "s": storagePath "project/db" must start with keys/ (a key storage path)',
    ),
    "retry not a number": (
        HEAD + SEQ + "<retry>x</retry>" + TAIL,
        'f.xml:2: job "a": retry "x" must be a whole number or an ${option.x} reference',
    ),
    "retry in another script's digits": (
        HEAD + SEQ + "<retry>\u00b2</retry>" + TAIL,
        'f.xml:2: job "a": retry "\u00b2" must be a whole number or an ${option.x} reference',
    ),
    "threadcount in another script's digits": (
        HEAD
        + SEQ
        + "<nodefilters><filter>.*</filter></nodefilters><dispatch><threadcount>\u0663</threadcount></dispatch>"
        + TAIL,
        'f.xml:2: job "a": threadcount "\u0663" must be a positive whole number',
    ),
    "threadcount zero": (
        HEAD
        + SEQ
        + "<nodefilters><filter>.*</filter></nodefilters><dispatch><threadcount>0</threadcount></dispatch>"
        + TAIL,
        'f.xml:2: job "a": threadcount "0" must be a positive whole number',
    ),
    "unknown loglevel": (
        HEAD + SEQ + "<loglevel>LOUD</loglevel>" + TAIL,
        'f.xml:2: job "a": loglevel "LOUD" is not one of DEBUG, VERBOSE, INFO, WARN, ERROR',
    ),
    "bad limitAction": (
        HEAD + SEQ + "<logging limit='10' limitAction='stop'/>" + TAIL,
        'f.xml:2: job "a": logging limitAction "stop" must be "halt" or "truncate"',
    ),
    "email without recipients": (
        HEAD + SEQ + "<notification>\n<onsuccess>\n<email subject='x'/></onsuccess></notification>" + TAIL,
        "f.xml:4: job \"a\": onsuccess email has a blank or missing 'recipients'",
    ),
    "webhook without urls": (
        HEAD + SEQ + "<notification>\n<onfailure>\n<webhook format='json'/></onfailure></notification>" + TAIL,
        "f.xml:4: job \"a\": onfailure webhook has a blank or missing 'urls'",
    ),
    "plugin without type": (
        HEAD + SEQ + "<notification>\n<onstart>\n<plugin/></onstart></notification>" + TAIL,
        "f.xml:4: job \"a\": onstart plugin has a blank or missing 'type'",
    ),
    "empty notification": (
        HEAD + SEQ + "\n<notification/>" + TAIL,
        'f.xml:3: job "a": <notification> has no trigger element (onsuccess, onfailure, …)',
    ),
    "unknown trigger": (
        HEAD + SEQ + "<notification>\n<onlunch><email recipients='x'/></onlunch></notification>" + TAIL,
        'f.xml:3: job "a": unknown notification trigger <onlunch>',
    ),
    "an unfinished CDATA section is one line": (
        HEAD + "<sequence><command><script><![CDATA[echo a\necho b</script>" + TAIL,
        "f.xml:3: invalid XML: CData section not finished",
    ),
    "entity reference": (
        '<!DOCTYPE joblist [<!ENTITY e "x">]>\n'
        + HEAD
        + "<sequence>\n<command><exec>&e;</exec></command></sequence>"
        + TAIL,
        "f.xml:4: entity reference &e; in <exec> is not supported: write its text instead",
    ),
    "trigger without notification": (
        HEAD + SEQ + "<notification>\n<onsuccess/></notification>" + TAIL,
        'f.xml:3: job "a": <onsuccess> has no email, webhook or plugin element',
    ),
}


@pytest.mark.parametrize("name", XML_CASES)
def test_xml_errors_are_located_and_exact(name: str) -> None:
    document, message = XML_CASES[name]
    with pytest.raises(JobDefinitionError) as caught:
        load_jobs_xml(document, path="f.xml")
    assert matches(str(caught.value), message), str(caught.value)
    assert caught.value.path == "f.xml"


def test_one_bad_job_imports_nothing_and_names_the_job() -> None:
    document = f"<joblist>\n<job><name>ok</name><description/>{SEQ}</job>\n<job><name>bad</name><description/></job>"
    with pytest.raises(JobDefinitionError) as caught:
        load_jobs_xml(document + "</joblist>", path="f.xml")
    assert str(caught.value) == 'f.xml:3: job "bad": missing <sequence>'
    assert (caught.value.job, caught.value.line) == ("bad", 3)


YAML_CASES = {
    "not a list": ("name: a\n", "f.yaml:1: a job YAML file must be a list of jobs"),
    "empty list": ("[]\n", "f.yaml:1: the file holds no job"),
    "not YAML": (
        "- name: [a\n",
        "f.yaml:2: invalid YAML: " + PARSER_REASON,
    ),
    "a control character YAML refuses": (
        "- name: a\n  description: 'x\0'\n",
        "f.yaml:2: invalid YAML: control characters are not allowed (#x0000)",
    ),
    "not UTF-8": (
        b"- name: a\n  description: caf\xe9\n",
        "f.yaml:2: not UTF-8 text: byte 0xe9 at offset 28 cannot be decoded (save the file as UTF-8)",
    ),
    "job not a map": ("- a\n", "f.yaml:1: job #1 must be a map, not str"),
    "missing name": ("- description: ''\n  sequence: {commands: [{exec: x}]}\n", "f.yaml:1: job #1 has no name"),
    "missing description": (
        "- name: a\n  sequence: {commands: [{exec: x}]}\n",
        'f.yaml:1: job "a": missing description (it may be empty)',
    ),
    "missing sequence": (
        "- name: ok\n  description: ''\n  sequence: {commands: [{exec: x}]}\n- name: b\n  description: ''\n",
        'f.yaml:4: job "b": missing sequence',
    ),
    "no commands": (
        "- name: a\n  description: ''\n  sequence: {keepgoing: true}\n",
        'f.yaml:1: job "a": sequence has no commands',
    ),
    "bad crontab": (
        "- name: a\n  description: ''\n  sequence: {commands: [{exec: x}]}\n  schedule: {crontab: '0 0 12 * * *'}\n",
        'f.yaml:4: job "a": invalid schedule "0 0 12 * * *": exactly one of day-of-month and day-of-week must be "?"',
    ),
    "bad regex": (
        "- name: a\n  description: ''\n  sequence: {commands: [{exec: x}]}\n  options: [{name: o, regex: '['}]\n",
        'f.yaml:4: job "a": option "o": invalid regex "[": unterminated character set at position 1',
    ),
    "enforced default": (
        "- name: a\n  description: ''\n  sequence: {commands: [{exec: x}]}\n"
        "  options: [{name: o, value: c, values: [a, b], enforced: true}]\n",
        'f.yaml:4: job "a": option "o": default value "c" is not one of the allowed values (a,b)',
    ),
    "step without kind": (
        "- name: a\n  description: ''\n  sequence: {commands: [{description: x}]}\n",
        'f.yaml:3: job "a": a command has no step (exec, script, scriptfile, scripturl, jobref or a plugin type)',
    ),
    "option in block style": (
        "- name: a\n  description: ''\n  sequence: {commands: [{exec: x}]}\n  options:\n  - name: ok\n"
        "  - name: o\n    regex: '('\n",
        'f.yaml:6: job "a": option "o": invalid regex "(": missing ) at position 1',
    ),
    "retry delay without a count": (  # found by tests/test_fuzz_inputs.py: the XML export lost the delay
        "- name: a\n  description: ''\n  sequence: {commands: [{exec: x}]}\n  retry: {delay: 10s}\n",
        'f.yaml:1: job "a": retry delay "10s" needs a retry count',
    ),
    "notification without recipients": (
        "- name: a\n  description: ''\n  sequence: {commands: [{exec: x}]}\n  notification:\n    onsuccess:\n"
        "      email: {subject: x}\n",
        "f.yaml:6: job \"a\": onsuccess email has a blank or missing 'recipients'",
    ),
}


@pytest.mark.parametrize("name", YAML_CASES)
def test_yaml_errors_are_located_and_exact(name: str) -> None:
    document, message = YAML_CASES[name]
    with pytest.raises(JobDefinitionError) as caught:
        load_jobs_yaml(document, path="f.yaml")
    assert matches(str(caught.value), message), str(caught.value)


def test_schedule_fire_time_uses_the_given_now() -> None:
    schedule = Schedule.from_crontab("0 0 12 ? * * 2030")
    validate_schedule(schedule, now=datetime(2029, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="it will never fire again"):
        validate_schedule(schedule, now=datetime(2031, 1, 1, tzinfo=UTC))


def test_quartz_specials_are_accepted() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for crontab in ("0 0 12 ? * MON#2", "0 0 12 L * ?", "0 0 12 15W * ?", "0 0/15 * ? * 2-6", "0 0 12 ? * 6L"):
        validate_schedule(Schedule.from_crontab(crontab), crontab=crontab, now=now)


def test_option_checks_allow_references_and_multivalued_defaults() -> None:
    validate_option(Option(name="o", value="${option.x}", values=("a",), enforced=True))
    validate_option(Option(name="m", value="a,b", values=("a", "b"), enforced=True, multivalued=True, delimiter=","))


def test_deprecated_filter_keeps_rundecks_key_order() -> None:
    parts = {"include": {"tags": "a+b", "hostname": "h1"}, "exclude": {"os-name": "Windows XP"}}
    assert deprecated_filter(parts) == 'hostname: h1 tags: a+b !os-name: "Windows XP"'


def test_a_control_character_from_a_yaml_escape_is_refused_naming_the_field() -> None:
    document = '- name: a\n  description: ""\n  sequence:\n    commands:\n    - exec: "echo \\e[31m red"\n'
    with pytest.raises(JobDefinitionError) as caught:
        load_jobs_yaml(document, path="f.yaml")
    assert str(caught.value) == (
        'f.yaml:5: job "a": field "sequence.commands[0].exec" holds the control character U+001B, which a job '
        "definition cannot hold (its XML form has no such character): remove it"
    )
    named = '- name: "a\\e"\n  description: red\n  sequence: {commands: [{exec: x}]}\n'
    with pytest.raises(JobDefinitionError) as caught:
        load_jobs_yaml(named, path="f.yaml")
    assert str(caught.value).startswith('f.yaml:1: job "a\\x1b": field "name" holds the control character U+001B')


def test_integer_keys_load_and_read_back() -> None:
    document = (
        "- name: a\n  description: ''\n  1: x\n"
        "  sequence: {commands: [{exec: x, 2: y}, {type: t, configuration: {3: z}}]}\n"
    )
    (job,) = load_jobs_yaml(document, path="f.yaml")
    assert load_jobs_xml(dump_jobs_xml([job]), path="again.xml") == [job]


def test_a_sort_index_that_is_not_ascii_digits_is_ignored_as_any_other() -> None:
    options = "<option name='b' sortIndex='\u00b2'/><option name='a' sortIndex='x'/><option name='c' sortIndex='1'/>"
    (job,) = load_jobs_xml(OPTIONS.format(options), path="f.xml")
    assert [o.name for o in job.options] == ["c", "a", "b"]
    yaml_options = "  options:\n    b: {sortIndex: '\u00b2'}\n    a: {sortIndex: x}\n    c: {sortIndex: 1}\n"
    (job,) = load_jobs_yaml(
        "- name: j\n  description: ''\n  sequence: {commands: [{exec: x}]}\n" + yaml_options, path="f"
    )
    assert [o.name for o in job.options] == ["c", "a", "b"]
