"""The job XML codec: Rundeck's import leniency and its canonical export form."""

from __future__ import annotations

import textwrap

from xlr_runtime.rundeck.jobs.model import (
    DataSet,
    EmailNotification,
    ExecStep,
    Job,
    JobPlugin,
    JobRefStep,
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


def load_one(body: str) -> Job:
    """One job named j from the inside of a ``<job>`` element (description and sequence added when missing)."""
    if not body.startswith("<description"):
        body = "<description></description>" + body
    body = "<name>j</name>" + body
    if "<sequence" not in body:
        body += "<sequence><command><exec>true</exec></command></sequence>"
    (job,) = load_jobs_xml(f"<joblist><job>{body}</job></joblist>", path="jobs.xml")
    return job


def job(**fields: object) -> Job:
    fields.setdefault("sequence", Workflow(steps=(ExecStep(command="true"),)))
    return Job(name=fields.pop("name", "j"), **fields)  # type: ignore[arg-type]


def inner(xml: str) -> list[str]:
    """The lines of the exported job without the joblist/job wrapper, dedented to the job's children."""
    return [line.removeprefix("    ") for line in xml.splitlines()[2:-2]]


# -- import leniency -----------------------------------------------------------------------------------------


def test_attributes_and_child_elements_are_interchangeable() -> None:
    as_attributes = load_one("<sequence><command><jobref name='other' group='g' nodeStep='true'/></command></sequence>")
    as_elements = load_one(
        "<sequence><command><jobref><name>other</name><group>g</group><nodeStep>true</nodeStep></jobref>"
        "</command></sequence>"
    )
    assert as_attributes == as_elements
    assert as_attributes.sequence.steps[0] == JobRefStep(name="other", group="g", node_step=True)


def test_booleans_are_parsed_as_java_parse_boolean() -> None:
    assert load_one("<executionEnabled>TRUE</executionEnabled>").execution_enabled is True
    assert load_one("<executionEnabled>yes</executionEnabled>").execution_enabled is False
    assert load_one("<executionEnabled> </executionEnabled>").execution_enabled is True
    assert load_one("<multipleExecutions>True</multipleExecutions>").multiple_executions is True


def test_empty_elements_are_empty_strings_and_groups_are_trimmed() -> None:
    loaded = load_one("<description/><group>//ops/db/</group>")
    assert loaded.description == ""
    assert loaded.group == "ops/db"
    assert load_one("<group>/</group>").group is None


def test_context_project_is_ignored_and_id_is_kept_only_without_uuid() -> None:
    loaded = load_one("<id>8</id><context><project>zig</project></context>")
    assert (loaded.id, loaded.uuid, loaded.project) == ("8", None, None)
    assert load_one("<id>8</id><uuid>u-1</uuid>").id is None


def test_options_without_preserve_order_are_sorted_by_name() -> None:
    body = "<context><options>{}</options></context>"
    options = "<option name='zeta'/><option name='Beta'/><option name='alpha'/>"
    assert [o.name for o in load_one(body.format(options)).options] == ["Beta", "alpha", "zeta"]
    preserved = f"<context><options preserveOrder='true'>{options}</options></context>"
    assert [o.name for o in load_one(preserved).options] == ["zeta", "Beta", "alpha"]


def test_option_values_split_on_their_delimiter() -> None:
    loaded = load_one(
        "<context><options><option name='o' values='a|b,c' valuesListDelimiter='|' enforcedvalues='true' value='a'>"
        "<description>line 1\nline 2</description><label>Pick</label><hidden>true</hidden></option>"
        "</options></context>"
    )
    option = loaded.options[0]
    assert option.values == ("a", "b,c")
    assert (option.enforced, option.value, option.label, option.hidden) == (True, "a", "Pick", True)
    assert option.description == "line 1\nline 2"


def test_deprecated_include_exclude_become_a_filter_string() -> None:
    loaded = load_one(
        "<nodefilters excludeprecedence='false'><include><os-family>unix</os-family><name>web 1</name></include>"
        "<exclude><tags>old</tags></exclude></nodefilters><dispatch><threadcount>2</threadcount></dispatch>"
    )
    assert loaded.node_filter == 'name: "web 1" os-family: unix !tags: old'
    assert loaded.dispatch.exclude_precedence is False
    assert loaded.dispatch.threadcount == "2"


def test_dispatch_without_a_node_filter_is_dropped_as_rundeck_does() -> None:
    loaded = load_one("<dispatch><threadcount>4</threadcount><keepgoing>true</keepgoing></dispatch>")
    assert loaded.dispatch.threadcount == "1"
    assert "<dispatch>" not in dump_jobs_xml([loaded])


def test_crontab_and_element_schedules() -> None:
    crontab = load_one("<schedule crontab='0 21 */4 */4 */6 ? 2010-2040'/>").schedule
    assert crontab == Schedule("0", "21", "*/4", "*/4", "*/6", "?", "2010-2040")
    elements = load_one("<schedule><time hour='06' minute='00'/><weekday day='MON-FRI'/><month month='*'/></schedule>")
    assert elements.schedule == Schedule("0", "00", "06", "?", "*", "MON-FRI", "*")
    assert elements.schedule.crontab == "0 00 06 ? * MON-FRI *"


def test_every_step_kind() -> None:
    loaded = load_one(
        textwrap.dedent(
            """
            <sequence keepgoing='true' strategy='step-first'>
              <command><description>say hi</description><exec>echo hi</exec></command>
              <command><script><![CDATA[#!/bin/sh
            echo @option.x@]]></script><scriptargs>-a</scriptargs>
                <scriptinterpreter argsquoted='true'>bash -c</scriptinterpreter><fileExtension>.sh</fileExtension>
              </command>
              <command><scriptfile>/opt/s.sh</scriptfile><scriptargs/></command>
              <command><scripturl>http://x/s.sh</scripturl></command>
              <command>
                <errorhandler keepgoingOnSuccess='true'><exec>echo handled</exec></errorhandler>
                <jobref name='child' group='/g/' project='p'><arg line='-opt v'/><importOptions>true</importOptions>
                  <nodefilters><filter>tags: web</filter></nodefilters><dispatch><threadcount>3</threadcount></dispatch>
                  <failOnDisable>true</failOnDisable><childNodes>true</childNodes><uuid>u-2</uuid></jobref>
              </command>
              <command><node-step-plugin type='copyfile'><configuration><entry key='b' value='2'/>
                <entry key='a' value='1'/></configuration></node-step-plugin></command>
              <command><step-plugin type='log-data-step'/></command>
            </sequence>
            """
        )
    )
    steps = loaded.sequence.steps
    assert loaded.sequence.keepgoing is True and loaded.sequence.strategy == "step-first"
    assert steps[0] == ExecStep(command="echo hi", description="say hi")
    assert steps[1] == ScriptStep(
        kind=ScriptKind.SCRIPT,
        source="#!/bin/sh\necho @option.x@",
        args="-a",
        interpreter="bash -c",
        args_quoted=True,
        file_extension=".sh",
    )
    assert steps[2] == ScriptStep(kind=ScriptKind.SCRIPTFILE, source="/opt/s.sh")
    assert steps[3] == ScriptStep(kind=ScriptKind.SCRIPTURL, source="http://x/s.sh")
    jobref = steps[4]
    assert isinstance(jobref, JobRefStep)
    assert (jobref.group, jobref.project, jobref.args, jobref.node_filter) == ("g", "p", "-opt v", "tags: web")
    assert (jobref.import_options, jobref.fail_on_disable, jobref.child_nodes, jobref.uuid) == (True, True, True, "u-2")
    assert jobref.dispatch is not None and jobref.dispatch.threadcount == "3"
    assert jobref.errorhandler == ExecStep(command="echo handled", keepgoing_on_success=True)
    assert steps[5] == PluginStep(type="copyfile", node_step=True, configuration={"b": "2", "a": "1"})
    assert steps[6] == PluginStep(type="log-data-step")


def test_notifications_in_attribute_and_element_forms() -> None:
    loaded = load_one(
        "<notification><onsuccess><webhook urls='http://a'/><format>json</format><httpMethod>get</httpMethod>"
        "<email recipients='a@x' attachLog='true'/></onsuccess>"
        "<onfailure><webhook urls='http://b' format='xml' httpMethod='post'/><webhook urls='http://c'/>"
        "<plugin type='p'><configuration><entry key='k' value='v'/></configuration></plugin></onfailure>"
        "</notification><notifyAvgDurationThreshold>+30</notifyAvgDurationThreshold>"
    )
    assert loaded.notifications[Trigger.ON_SUCCESS] == (
        EmailNotification(recipients="a@x", attach_log=True),
        WebhookNotification(urls="http://a", format="json", http_method="get"),
    )
    assert loaded.notifications[Trigger.ON_FAILURE] == (
        PluginNotification(type="p", configuration={"k": "v"}),
        WebhookNotification(urls="http://b", format="xml", http_method="post"),
        WebhookNotification(urls="http://c"),
    )
    assert loaded.notify_avg_duration_threshold == "+30"


def test_job_plugins_generic_data_uses_value_and_accepts_string() -> None:
    loaded = load_one(
        "<plugins><ExecutionLifecycle type='a'><configuration data='true'><map><value key='x'>1</value>"
        "<list key='l'><value>p</value><string>q</string></list><set key='s'><value>r</value></set>"
        "<map key='m'><value key='h/bingle'>i</value></map></map></configuration></ExecutionLifecycle>"
        "<ExecutionLifecycle type='b'/></plugins>"
    )
    assert loaded.plugins == {
        "ExecutionLifecycle": (
            JobPlugin("a", {"x": "1", "l": ["p", "q"], "s": DataSet(["r"]), "m": {"h/bingle": "i"}}),
            JobPlugin("b"),
        )
    }


def test_unknown_elements_are_kept_and_element_escape_is_read() -> None:
    loaded = load_one("<schedules/><jobQueue limit='3'><size>5</size></jobQueue><element name='a:b'>c</element>")
    assert [raw.tag for raw in loaded.extra] == ["schedules", "jobQueue", "a:b"]
    lines = inner(dump_jobs_xml([loaded]))
    assert "<element name='a:b'>c</element>" in lines
    assert lines[lines.index("<jobQueue limit='3'>") + 1] == "  <size>5</size>"
    assert "<schedules />" in lines


# -- canonical export ----------------------------------------------------------------------------------------


def test_minimal_job_export_is_rundecks_form() -> None:
    assert dump_jobs_xml([job(uuid="u-1")]) == textwrap.dedent(
        """\
        <joblist>
          <job>
            <description></description>
            <executionEnabled>true</executionEnabled>
            <id>u-1</id>
            <loglevel>INFO</loglevel>
            <name>j</name>
            <nodeFilterEditable>true</nodeFilterEditable>
            <scheduleEnabled>true</scheduleEnabled>
            <sequence keepgoing='false' strategy='node-first'>
              <command>
                <exec>true</exec>
              </command>
            </sequence>
            <uuid>u-1</uuid>
          </job>
        </joblist>"""
    )
    assert dump_jobs_xml([]) == "<joblist />"


def test_schedule_is_always_written_as_elements() -> None:
    by_day = inner(dump_jobs_xml([job(schedule=Schedule.from_crontab("0 21 */4 */4 */6 ? 2010-2040"))]))
    start = by_day.index("<schedule>")
    assert by_day[start : start + 6] == [
        "<schedule>",
        "  <dayofmonth />",
        "  <month day='*/4' month='*/6' />",
        "  <time hour='*/4' minute='21' seconds='0' />",
        "  <year year='2010-2040' />",
        "</schedule>",
    ]
    by_week = inner(dump_jobs_xml([job(schedule=Schedule(minute="00", hour="06", day_of_week="MON"))]))
    start = by_week.index("<schedule>")
    assert by_week[start + 1 : start + 5] == [
        "  <month month='*' />",
        "  <time hour='06' minute='00' seconds='0' />",
        "  <weekday day='MON' />",
        "  <year year='*' />",
    ]


def test_cdata_and_escaping_rules() -> None:
    step = ScriptStep(kind=ScriptKind.SCRIPT, source="echo 'a' && x]]>y")
    exported = dump_jobs_xml(
        [job(description="first\r\nsecond & <third>", sequence=Workflow(steps=(step, ExecStep(command="a < b"))))]
    )
    assert "<description><![CDATA[first\nsecond & <third>]]></description>" in exported
    assert "<script><![CDATA[echo 'a' && x]]]]><![CDATA[>y]]></script>" in exported
    assert "<exec>a &lt; b</exec>" in exported
    ref = JobRefStep(name="it's", args="-a 'x'\ty\nz")
    exported = dump_jobs_xml([job(sequence=Workflow(steps=(ref,)))])
    assert "<jobref name='it&apos;s'>" in exported
    assert "<arg line='-a &apos;x&apos;&#09;y&#10;z' />" in exported


def test_sorted_names_put_script_before_scriptargs_and_uppercase_first() -> None:
    step = ScriptStep(kind=ScriptKind.SCRIPT, source="x", interpreter="sudo", file_extension=".sh")
    lines = inner(dump_jobs_xml([job(sequence=Workflow(steps=(step,)), default_tab="nodes")]))
    command = lines.index("  <command>")
    assert lines[command + 1 : command + 5] == [
        "    <fileExtension>.sh</fileExtension>",
        "    <script><![CDATA[x]]></script>",
        "    <scriptargs />",
        "    <scriptinterpreter>sudo</scriptinterpreter>",
    ]
    assert lines[0] == "<defaultTab>nodes</defaultTab>"


def test_node_filter_brings_dispatch_and_nodes_selected_by_default() -> None:
    lines = inner(dump_jobs_xml([job(node_filter="tags: web", filter_exclude="name: db")]))
    assert lines[:7] == [
        "<description></description>",
        "<dispatch>",
        "  <excludePrecedence>true</excludePrecedence>",
        "  <keepgoing>false</keepgoing>",
        "  <rankOrder>ascending</rankOrder>",
        "  <successOnEmptyNodeFilter>false</successOnEmptyNodeFilter>",
        "  <threadcount>1</threadcount>",
    ]
    start = lines.index("<nodefilters>")
    assert lines[start : start + 5] == [
        "<nodefilters>",
        "  <filter>tags: web</filter>",
        "  <filterExclude>name: db</filterExclude>",
        "</nodefilters>",
        "<nodesSelectedByDefault>true</nodesSelectedByDefault>",
    ]


def test_notifications_legacy_form_and_element_form() -> None:
    legacy = job(
        notifications={
            Trigger.ON_SUCCESS: (
                WebhookNotification(urls="http://a", format="json", http_method="post"),
                PluginNotification(type="z"),
                PluginNotification(type="a", configuration={"k": "v"}),
                EmailNotification(recipients="a@x", subject="ok"),
            ),
            Trigger.ON_FAILURE: (EmailNotification(recipients="b@x"),),
        }
    )
    lines = inner(dump_jobs_xml([legacy]))
    start = lines.index("<notification>")
    assert lines[start : start + 16] == [
        "<notification>",
        "  <onfailure>",
        "    <email recipients='b@x' />",
        "  </onfailure>",
        "  <onsuccess>",
        "    <email recipients='a@x' subject='ok' />",
        "    <format>json</format>",
        "    <httpMethod>post</httpMethod>",
        "    <plugin type='a'>",
        "      <configuration>",
        "        <entry key='k' value='v' />",
        "      </configuration>",
        "    </plugin>",
        "    <plugin type='z' />",
        "    <webhook urls='http://a' />",
        "  </onsuccess>",
    ]
    repeated = job(
        notifications={
            Trigger.ON_START: (WebhookNotification(urls="http://a", format="xml"), WebhookNotification(urls="http://b"))
        }
    )
    lines = inner(dump_jobs_xml([repeated]))
    assert "    <webhook format='xml' urls='http://a' />" in lines
    assert "    <webhook urls='http://b' />" in lines


def test_options_export_attributes_and_children() -> None:
    from xlr_runtime.rundeck.jobs.model import Option

    options = (
        Option(name="b", value="x", values=("x", "y"), enforced=True, required=True, description="one\ntwo"),
        Option(
            name="a",
            multivalued=True,
            delimiter=",",
            multivalue_all_selected=True,
            is_date=True,
            date_format="YYYY",
            secure=False,
        ),
    )
    lines = inner(dump_jobs_xml([job(options=options)]))
    assert lines[:9] == [
        "<context>",
        "  <options preserveOrder='true'>",
        "    <option enforcedvalues='true' name='b' required='true' value='x' values='x,y'>",
        "      <description><![CDATA[one",
        "two]]></description>",
        "    </option>",
        "    <option delimiter=',' multivalueAllSelected='true' multivalued='true' name='a'>",
        "      <dateFormat>YYYY</dateFormat>",
        "      <isDate>true</isDate>",
    ]


def test_job_plugins_export_generic_data() -> None:
    plugins = {"ExecutionLifecycle": (JobPlugin("p", {"a": "b", "l": ["c"], "s": DataSet(["d"])}), JobPlugin("q"))}
    lines = inner(dump_jobs_xml([job(plugins=plugins)]))
    start = lines.index("<plugins>")
    assert lines[start : start + 15] == [
        "<plugins>",
        "  <ExecutionLifecycle type='p'>",
        "    <configuration data='true'>",
        "      <map>",
        "        <value key='a'>b</value>",
        "        <list key='l'>",
        "          <value>c</value>",
        "        </list>",
        "        <set key='s'>",
        "          <value>d</value>",
        "        </set>",
        "      </map>",
        "    </configuration>",
        "  </ExecutionLifecycle>",
        "  <ExecutionLifecycle type='q' />",
    ]
    assert "<plugins />" in inner(dump_jobs_xml([job(plugins={})]))


def test_retry_logging_and_scalars() -> None:
    lines = inner(
        dump_jobs_xml(
            [
                job(
                    retry="3",
                    retry_delay="1h1m1s",
                    log_limit="20MB",
                    log_limit_action="halt",
                    log_limit_status="x",
                    timeout="20m",
                    multiple_executions=True,
                    time_zone="Europe/Paris",
                    group="a/b",
                )
            ]
        )
    )
    assert "<retry delay='1h1m1s'>3</retry>" in lines
    assert "<logging limit='20MB' limitAction='halt' status='x' />" in lines
    assert lines.index("<timeZone>Europe/Paris</timeZone>") < lines.index("<timeout>20m</timeout>")
    assert "<multipleExecutions>true</multipleExecutions>" in lines
    assert lines.index("<logging limit='20MB' limitAction='halt' status='x' />") < lines.index(
        "<loglevel>INFO</loglevel>"
    )


def test_export_is_stable() -> None:
    jobs = [job(name="b", uuid="2"), job(name="a", uuid="1", node_filter=".*")]
    assert dump_jobs_xml(jobs) == dump_jobs_xml(load_jobs_xml(dump_jobs_xml(jobs), path="x"))
