"""Fuzzing the files and command-line inputs a user or a hostile file can hand us (hypothesis).

Each case starts from a valid document written for this test and applies a few random edits: bytes from a list
of known troublemakers (control characters, invalid UTF-8, entities, YAML aliases and tags, Unicode digits,
huge numbers) inserted, deleted or replaced at random places. Whatever comes out must be either accepted or
refused with one of our errors in one line, quickly; an accepted job must export and load back, in both formats,
and through the CLI a stored project must stay listable.

The run is deterministic (``derandomize``) and bounded so CI spends well under a minute; set
``XLR_FUZZ_EXAMPLES=5000`` (and ``XLR_FUZZ_RANDOM=1`` for a new random seed each run) to search harder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from synthetic_helpers import fresh_pm

from xlr_runtime.cli import main
from xlr_runtime.errors import XlrError
from xlr_runtime.rundeck.jobs.xml_codec import dump_jobs_xml, load_jobs_xml
from xlr_runtime.rundeck.jobs.yaml_codec import dump_jobs_yaml, load_jobs_yaml
from xlr_runtime.typesystem.registry import load_registry

EXAMPLES = int(os.environ.get("XLR_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # a slow case is found by the hang guard below (pytest-timeout), not by wall-clock noise
    derandomize=os.environ.get("XLR_FUZZ_RANDOM") != "1",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)

TROUBLE = [
    b"\x1b[31m",
    b"\x00",
    b"\x07",
    b"\xff\xfe",
    b"\xed\xb3\xbf",  # a lone surrogate, as Python's surrogateescape/utf-8 would write it
    b"\xc3",  # a truncated UTF-8 sequence
    b"&amp;",
    b"&nope;",
    b"&#0;",
    b"&#x1b;",
    b"<![CDATA[x]]>",
    b"<!DOCTYPE joblist [<!ENTITY e 'boom'>]>",
    b"<x/>",
    b"</job>",
    b"\"'<>",
    b"${option.x}",
    b"\xc2\xb2",  # superscript two
    b"\xef\xbc\x95",  # fullwidth five
    b"1_000",
    b" 7 ",
    b"99999999999999999999999999",
    b"-1",
    b"1e400",
    b"nan",
    b"&a [1, 2]",
    b"*a",
    b"!!python/object:os.system",
    b"!!binary AAAA",
    b"\t",
    b"\n- ",
    b": ",
    b"{",
    b"}",
    b"[",
    b"#",
    b"\xef\xbb\xbf",  # a byte-order mark
    b"\xe2\x80\xa8",  # LINE SEPARATOR
]

JOB_XML = b"""<joblist>
  <job>
    <name>deploy</name>
    <group>web/tier</group>
    <uuid>9a0b6c2e-1f3d-4a5b-8c7d-2e4f6a8b0c1d</uuid>
    <description>Deploys the web tier</description>
    <loglevel>INFO</loglevel>
    <retry delay='10s'>2</retry>
    <timeout>5m</timeout>
    <schedule><time seconds='0' minute='30' hour='2'/><weekday day='*'/><month month='*'/><year year='*'/></schedule>
    <context>
      <options>
        <option name='env' value='dev' values='dev,prod' enforcedvalues='true' required='true'/>
        <option name='count' regex='^[0-9]+$' value='3'/>
        <option name='token' secure='true' valueExposed='true'/>
      </options>
    </context>
    <dispatch><threadcount>2</threadcount><keepgoing>false</keepgoing></dispatch>
    <sequence keepgoing='false' strategy='node-first'>
      <command><exec>echo ${option.env} ${option.count}</exec></command>
      <command><script><![CDATA[#!/bin/sh
echo hello]]></script><scriptargs>-x</scriptargs></command>
      <command><jobref name='other' group='web'><arg line='-env prod'/></jobref></command>
    </sequence>
    <notification><onfailure><email recipients='ops@example.com'/></onfailure></notification>
  </job>
</joblist>
"""

JOB_YAML = b"""- name: deploy
  group: web/tier
  uuid: 9a0b6c2e-1f3d-4a5b-8c7d-2e4f6a8b0c1d
  description: Deploys the web tier
  loglevel: INFO
  retry: {retry: '2', delay: 10s}
  timeout: 5m
  schedule:
    time: {hour: '02', minute: '30', seconds: '0'}
    month: '*'
    weekday: {day: '*'}
    year: '*'
  options:
  - name: env
    value: dev
    values: [dev, prod]
    enforced: true
    required: true
  - name: count
    regex: ^[0-9]+$
    value: '3'
  nodefilters:
    dispatch: {threadcount: 2, keepgoing: false}
  sequence:
    keepgoing: false
    strategy: node-first
    commands:
    - exec: echo ${option.env}
    - script: |-
        #!/bin/sh
        echo hello
      args: -x
    - jobref: {name: other, group: web, args: -env prod}
"""

SYNTHETIC = b"""<?xml version="1.0" encoding="UTF-8"?>
<synthetic xmlns="http://www.xebialabs.com/deployit/synthetic">
  <type type="fuzz.Server" extends="configuration.HttpConnection"/>
  <type type="fuzz.Task" extends="xlrelease.PythonScript" label="Fuzz task" description="A task">
    <property name="scriptLocation" default="fuzz/Task.py" hidden="true"/>
    <property name="server" category="input" kind="ci" referenced-type="fuzz.Server" required="true"/>
    <property name="count" category="input" kind="integer" default="3"/>
    <property name="mode" category="input" kind="enum" default="fast">
      <enum-values><value>fast</value><value>slow</value></enum-values>
    </property>
    <property name="tags" category="input" kind="map_string_string" required="false"/>
    <property name="secret" category="input" password="true" required="false"/>
    <property name="result" category="output"/>
  </type>
  <type-modification type="fuzz.Task">
    <property name="extra" category="input" default="x"/>
  </type-modification>
</synthetic>
"""


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` with one to four random edits: a troublemaker inserted or replacing a span, or a span deleted."""
    data = seed
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        at = draw(st.integers(min_value=0, max_value=len(data)))
        span = draw(st.integers(min_value=0, max_value=min(12, len(data) - at)))
        edit = draw(st.sampled_from(["insert", "replace", "delete"]))
        payload = draw(st.sampled_from(TROUBLE) | st.binary(max_size=6))
        if edit == "insert":
            data = data[:at] + payload + data[at:]
        elif edit == "replace":
            data = data[:at] + payload + data[at + span :]
        else:
            data = data[:at] + data[at + span :]
    return data


def assert_one_line(error: XlrError, path: str) -> None:
    message = str(error)
    assert "\n" not in message and "\r" not in message, f"not one line: {message!r}"
    assert path in message, f"the message does not name the file: {message!r}"
    assert "Traceback" not in message and "<cyfunction" not in message, message


def assert_round_trips(jobs: list, path: str) -> None:
    """An accepted job exports as XML, loads back, and exporting what was loaded back gives the same text
    (Rundeck's canonical export is stable; where an unknown element sits is bookkeeping each format records in
    its own way, so models are compared through their export). The YAML export does the same, or refuses in one
    line a job whose unknown elements YAML cannot carry (docs/rundeck-jobs.md); it never fails otherwise."""
    xml = dump_jobs_xml(jobs)
    from_xml = load_jobs_xml(xml, path=path, require_future=False)
    assert dump_jobs_xml(from_xml) == xml
    assert [job.name for job in from_xml] == [job.name for job in jobs]
    try:
        yaml_text = dump_jobs_yaml(jobs)
    except XlrError as refused:
        assert "cannot be exported as YAML" in str(refused) and "\n" not in str(refused), str(refused)
        return
    from_yaml = load_jobs_yaml(yaml_text, path=path, require_future=False)
    assert dump_jobs_yaml(from_yaml) == yaml_text
    assert [job.name for job in from_yaml] == [job.name for job in jobs]


@FUZZ
@given(mutated(JOB_XML))
def test_job_xml_is_accepted_or_refused_in_one_line(data: bytes) -> None:
    try:
        jobs = load_jobs_xml(data, path="jobs.xml", require_future=False)
    except XlrError as error:
        assert_one_line(error, "jobs.xml")
        return
    assert_round_trips(jobs, "jobs.xml")


@FUZZ
@given(mutated(JOB_YAML))
def test_job_yaml_is_accepted_or_refused_in_one_line(data: bytes) -> None:
    try:
        jobs = load_jobs_yaml(data, path="jobs.yaml")
    except XlrError as error:
        assert_one_line(error, "jobs.yaml")
        return
    assert_round_trips(jobs, "jobs.yaml")


@FUZZ
@given(mutated(SYNTHETIC))
def test_synthetic_xml_is_accepted_or_refused_in_one_line(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    plugin = tmp_path_factory.mktemp("plugin")
    (plugin / "synthetic.xml").write_bytes(data)
    (plugin / "fuzz").mkdir()
    (plugin / "fuzz" / "Task.py").write_text("result = str(count)\n")
    try:
        registry = load_registry(plugin_paths=[plugin], pm=fresh_pm(), include_bundled=False)
    except XlrError as error:
        assert_one_line(error, "synthetic.xml")
        return
    for task_type in registry.types():
        assert task_type.name


@pytest.fixture(scope="module")
def cli_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-home")


@FUZZ
@given(st.tuples(st.just("yaml"), mutated(JOB_YAML)) | st.tuples(st.just("xml"), mutated(JOB_XML)))
def test_a_loaded_project_stays_listable_and_a_refused_file_changes_nothing(
    cli_home: Path, tmp_path_factory: pytest.TempPathFactory, case: tuple[str, bytes]
) -> None:
    fmt, data = case
    source = JOB_YAML if fmt == "yaml" else JOB_XML
    folder = tmp_path_factory.mktemp("files")
    good, bad = folder / f"good.{fmt}", folder / f"bad.{fmt}"
    good.write_bytes(source)
    bad.write_bytes(data)
    home = ["--home", str(cli_home)]
    runner = CliRunner()
    assert runner.invoke(main, ["jobs", "load", "-p", "fuzz", "-f", str(good), *home]).exit_code == 0
    before = runner.invoke(main, ["jobs", "list", "-p", "fuzz", "--file", str(folder / "before.xml"), *home])
    assert before.exit_code == 0, before.output

    loaded = runner.invoke(main, ["jobs", "load", "-p", "fuzz", "-f", str(bad), *home])
    assert loaded.exit_code in (0, 1, 2), loaded.output
    assert not isinstance(loaded.exception, Exception) or isinstance(loaded.exception, SystemExit), loaded.output
    after = runner.invoke(main, ["jobs", "list", "-p", "fuzz", "--file", str(folder / "after.xml"), *home])
    assert after.exit_code == 0, f"the project cannot be listed after loading {data!r}: {after.output}"
    if loaded.exit_code != 0:
        (line,) = loaded.output.strip().splitlines()[:1]
        assert line.startswith("Error: ") and f"bad.{fmt}" in line, loaded.output
        assert (folder / "after.xml").read_bytes() == (folder / "before.xml").read_bytes()


@FUZZ
@given(
    task_id=st.one_of(
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.text(max_size=30),
        st.sampled_from(["0", "1e9", "\u00b2", "\uff15", "1_000", " 7 ", "\x1b", "99999999999999999999999"]),
    ),
    command=st.sampled_from([["task", "show"], ["task", "log"], ["task", "abort"], ["execution", "log"]]),
)
def test_task_and_execution_ids_are_refused_in_one_line(cli_home: Path, task_id: str, command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--home", str(cli_home), "--", task_id])
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.output.strip().splitlines()
    assert lines and lines[0].startswith(("Error: ", "Usage: ")), result.output
