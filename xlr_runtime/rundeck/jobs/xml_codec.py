"""Rundeck job XML: ``load_jobs_xml`` reads a ``<joblist>`` leniently, ``dump_jobs_xml`` writes the canonical export.

Reading follows Rundeck's ``JobsXMLCodec.convertXMapToJobMap`` and ``ScheduledExecution.fromMap``; every job is
validated (:mod:`xlr_runtime.rundeck.jobs.validation`) and the first bad job fails the whole file, so nothing of it is
imported. Writing is in :mod:`xlr_runtime.rundeck.jobs.xml_export`.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from xlr_runtime.errors import JobDefinitionError
from xlr_runtime.rundeck.jobs.model import (
    DataSet,
    DataValue,
    Dispatch,
    EmailNotification,
    ExecStep,
    Job,
    JobPlugin,
    JobRefDispatch,
    JobRefStep,
    Notification,
    Option,
    PluginNotification,
    PluginStep,
    Schedule,
    ScriptKind,
    ScriptStep,
    Step,
    Trigger,
    WebhookNotification,
    Workflow,
    trim_group,
)
from xlr_runtime.rundeck.jobs.validation import (
    JobContext,
    deprecated_filter,
    validate_job,
    validate_option,
    validate_schedule,
    whole_number,
)
from xlr_runtime.rundeck.jobs.xml_export import dump_jobs_xml
from xlr_runtime.rundeck.jobs.xmlread import (
    Node,
    first_entity,
    parse_bool,
    parse_document,
    syntax_error_message,
    tag_of,
)

__all__ = ["dump_jobs_xml", "load_jobs_xml"]

_JOB_ELEMENTS = frozenset(
    [
        "uuid",
        "id",
        "name",
        "description",
        "group",
        "context",
        "loglevel",
        "logging",
        "timeout",
        "retry",
        "multipleExecutions",
        "maxMultipleExecutions",
        "executionEnabled",
        "scheduleEnabled",
        "nodeFilterEditable",
        "nodesSelectedByDefault",
        "nodefilters",
        "dispatch",
        "schedule",
        "timeZone",
        "sequence",
        "notification",
        "notifyAvgDurationThreshold",
        "plugins",
        "orchestrator",
        "defaultTab",
    ]
)
_STEP_ELEMENTS = frozenset(
    [
        "exec",
        "script",
        "scriptfile",
        "scripturl",
        "scriptargs",
        "scriptinterpreter",
        "fileExtension",
        "jobref",
        "node-step-plugin",
        "step-plugin",
        "errorhandler",
        "description",
        "plugins",
        "keepgoingOnSuccess",
    ]
)


def load_jobs_xml(data: bytes | str, *, path: str | Path, require_future: bool = True) -> list[Job]:
    """Parse a Rundeck ``<joblist>`` document into jobs.

    ``path`` only names the file in errors; ``require_future=False`` accepts a schedule that will not fire
    again (for re-reading stored jobs). Raises :class:`JobDefinitionError` (``path:line: job "name": …``)
    for malformed XML, a wrong root, or the first invalid job; a file with one bad job yields nothing.
    """
    try:
        root = parse_document(data)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise JobDefinitionError(f"invalid XML: {syntax_error_message(exc)}", path=path, line=line) from None
    entity = first_entity(root)
    if entity is not None:
        parent = entity.getparent()
        where = f"<{tag_of(parent)}>" if parent is not None else "the document"
        raise JobDefinitionError(
            f"entity reference {entity.text} in {where} is not supported: write its text instead",
            path=path,
            line=entity.sourceline or None,
        )
    if root.tag != "joblist":
        raise JobDefinitionError(
            f"the root element must be <joblist>, not <{root.tag}>", path=path, line=root.sourceline
        )
    job_nodes = Node(root).children("job")
    if not job_nodes:
        raise JobDefinitionError("no <job> element found", path=path, line=root.sourceline)
    return [
        _job(node, JobContext(path, node.line, index, require_future=require_future))
        for index, node in enumerate(job_nodes, start=1)
    ]


def _job(node: Node, ctx: JobContext) -> Job:
    """One ``<job>`` element to a validated :class:`Job`."""
    name = node.get("name")
    if not name:
        raise ctx.error(f"job #{ctx.index} has no <name>", line=node.line, named=False)
    ctx.name = name
    if node.get("description") is None:
        raise ctx.error("missing <description> (it may be empty)")
    sequence = node.child("sequence")
    if sequence is None:
        raise ctx.error("missing <sequence>")
    filters, orchestrator = node.child("nodefilters"), node.child("orchestrator")
    node_filter = _node_filter(filters)
    retry, retry_delay = _retry(node)
    fields = ctx.build(
        lambda: Job(
            name=name,
            description=node.get("description") or "",
            uuid=node.get("uuid") or None,
            id=None if node.get("uuid") else (node.get("id") or None),
            group=trim_group(node.get("group")),
            loglevel=node.get("loglevel") or "INFO",
            default_tab=node.get("defaultTab"),
            execution_enabled=node.bool("executionEnabled", True),
            schedule_enabled=node.bool("scheduleEnabled", True),
            node_filter_editable=node.bool("nodeFilterEditable", True),
            multiple_executions=node.bool("multipleExecutions", False),
            max_multiple_executions=node.get("maxMultipleExecutions") or None,
            timeout=node.get("timeout") or None,
            retry=retry,
            retry_delay=retry_delay,
            **_logging(node),
            schedule=_schedule(node.child("schedule"), ctx),
            time_zone=node.get("timeZone") or None,
            options=_options(node.child("context"), ctx),
            node_filter=node_filter,
            filter_exclude=(filters.get("filterExclude") or None) if filters is not None else None,
            nodes_selected_by_default=node.bool("nodesSelectedByDefault", True),
            dispatch=_dispatch(node.child("dispatch") if node_filter else None, filters, ctx),
            notifications=_notifications(node.child("notification"), ctx),
            notify_avg_duration_threshold=node.get("notifyAvgDurationThreshold") or None,
            plugins=_job_plugins(node.child("plugins")),
            orchestrator=orchestrator.raw() if orchestrator is not None else None,
            sequence=_workflow(sequence, ctx),
            extra=tuple(
                child.raw(index) for index, child in enumerate(node.elements()) if child.tag not in _JOB_ELEMENTS
            ),
        ),
        line=node.line,
    )
    ctx.build(lambda: validate_job(fields), line=node.line)
    return fields


def _retry(node: Node) -> tuple[str | None, str | None]:
    """``<retry delay=…>N</retry>``: the count and the delay."""
    retry = node.child("retry")
    if retry is None:
        return (node.get("retry") or None, None)
    return (retry.text or None, retry.get("delay") or None)


def _logging(node: Node) -> dict[str, str | None]:
    logging = node.child("logging")
    if logging is None or not logging.get("limit"):
        return {}
    return {
        "log_limit": logging.get("limit"),
        "log_limit_action": logging.get("limitAction") or "halt",
        "log_limit_status": logging.get("status") or None,
    }


def _schedule(node: Node | None, ctx: JobContext) -> Schedule | None:
    """``<schedule crontab=…>`` or the time/month/weekday/year/dayofmonth elements (``ScheduledExecution.fromMap``)."""
    if node is None:
        return None
    crontab = node.get("crontab")
    schedule = (
        ctx.build(lambda: Schedule.from_crontab(crontab), line=node.line) if crontab else _schedule_elements(node)
    )
    ctx.build(
        lambda: validate_schedule(schedule, crontab=crontab or None, require_future=ctx.require_future), line=node.line
    )
    return schedule


def _schedule_elements(node: Node) -> Schedule:
    """The element form: ``time``, ``month`` (``@day`` = day of month), ``weekday``, ``year``, ``dayofmonth``."""
    time, month, weekday = node.child("time"), node.child("month"), node.child("weekday")
    year, dayofmonth = node.child("year"), node.child("dayofmonth")
    day_of_month = (month.get("day") if month is not None else None) or (
        dayofmonth.get("day") if dayofmonth is not None else None
    )
    day_of_week = weekday.get("day") if weekday is not None else None
    if day_of_month:
        dom, dow = day_of_month, "?"
    elif day_of_week:
        dom, dow = "?", day_of_week
    else:
        dom, dow = "?", "*"

    def part(element: Node | None, name: str, default: str) -> str:
        value = element.get(name) if element is not None else None
        return value if value else default

    return Schedule(
        seconds=part(time, "seconds", "0"),
        minute=part(time, "minute", "0"),
        hour=part(time, "hour", "0"),
        day_of_month=dom,
        month=part(month, "month", "*"),
        day_of_week=dow,
        year=part(year, "year", "*"),
    )


def _options(context: Node | None, ctx: JobContext) -> tuple[Option, ...]:
    """``<context><options [preserveOrder]><option …>``; without preserveOrder Rundeck orders them by name."""
    options_node = context.child("options") if context is not None else None
    if options_node is None:
        return ()
    preserve = options_node.bool("preserveOrder", False)
    indexed: list[tuple[int | None, str, Option]] = []
    for option in options_node.children("option"):
        built = ctx.build(lambda option=option: validate_option(_option(option)), line=option.line)
        sort_index = option.get("sortIndex")
        index = whole_number(sort_index) if sort_index else None
        indexed.append((index, built.name, built))
    if preserve:
        return tuple(item[2] for item in indexed)
    with_index = sorted((item for item in indexed if item[0] is not None), key=lambda item: item[0])
    without = sorted((item for item in indexed if item[0] is None), key=lambda item: item[1])
    return tuple(item[2] for item in [*with_index, *without])


def _option(node: Node) -> Option:
    """One ``<option>``; ``values`` split on ``valuesListDelimiter`` (default ``,``)."""
    delimiter = node.get("valuesListDelimiter") or None
    values = node.get("values")
    config_node = node.child("config")
    config = _entries(config_node) if config_node is not None else None
    return Option(
        name=node.get("name") or "",
        value=node.get("value"),
        values=tuple(values.split(delimiter or ",")) if values else None,
        values_list_delimiter=delimiter,
        values_url=node.get("valuesUrl") or None,
        enforced=node.bool("enforcedvalues", False),
        regex=node.get("regex") or None,
        required=node.bool("required", False),
        multivalued=node.bool("multivalued", False),
        delimiter=node.get("delimiter") or None,
        multivalue_all_selected=parse_bool(
            node.get("multivalueAllSelected") or node.get("multivaluedAllSelected"), False
        ),
        secure=node.bool("secure", False),
        value_exposed=node.bool("valueExposed", False),
        storage_path=node.get("storagePath") or None,
        is_date=node.bool("isDate", False),
        date_format=node.get("dateFormat") or None,
        hidden=node.bool("hidden", False),
        sort_values=node.get("sortValues") or None,
        label=node.get("label") or None,
        description=node.get("description") or None,
        type=node.get("type") or None,
        config=config or None,
    )


def _node_filter(filters: Node | None) -> str | None:
    """The filter string, or the deprecated include/exclude elements converted to one."""
    if filters is None:
        return None
    text = filters.get("filter")
    if text:
        return text
    include, exclude = filters.child("include"), filters.child("exclude")
    if include is None and exclude is None:
        return None
    as_map = {
        key: {child.tag: child.text for child in part.elements()}
        for key, part in (("include", include), ("exclude", exclude))
        if part is not None
    }
    return deprecated_filter(as_map) or None


def _dispatch(node: Node | None, filters: Node | None, ctx: JobContext) -> Dispatch:
    if node is None:
        return Dispatch()
    precedence = filters.get("excludeprecedence") if filters is not None else None
    if precedence is None:
        precedence = node.get("excludePrecedence")
    rank_order = node.get("rankOrder")
    return ctx.build(
        lambda: Dispatch(
            threadcount=node.get("threadcount") or "1",
            keepgoing=node.bool("keepgoing", False),
            exclude_precedence=parse_bool(precedence, True),
            rank_attribute=node.get("rankAttribute") or None,
            rank_order="ascending" if rank_order in (None, "", "ascending") else "descending",
            success_on_empty_node_filter=node.bool("successOnEmptyNodeFilter", False),
        ),
        line=node.line,
    )


def _workflow(node: Node, ctx: JobContext) -> Workflow:
    commands = node.children("command")
    if not commands:
        raise ctx.error("<sequence> has no <command>", line=node.line)
    plugin_config = node.child("pluginConfig")
    return Workflow(
        steps=tuple(_step(command, ctx) for command in commands),
        keepgoing=node.bool("keepgoing", False),
        strategy=node.get("strategy") or "node-first",
        plugin_config=plugin_config.raw() if plugin_config is not None else None,
    )


def _step(node: Node, ctx: JobContext, *, handler: bool = False) -> Step:
    """One ``<command>`` (or ``<errorhandler>``) to a step of the right kind."""
    handler_node = None if handler else node.child("errorhandler")
    plugins = node.child("plugins")
    common = {
        "description": node.get("description") or None,
        "errorhandler": _step(handler_node, ctx, handler=True) if handler_node is not None else None,
        "keepgoing_on_success": node.opt_bool("keepgoingOnSuccess") if handler else None,
        "plugins": plugins.raw() if plugins is not None else None,
        "extra": tuple(
            child.raw(index) for index, child in enumerate(node.elements()) if child.tag not in _STEP_ELEMENTS
        ),
    }
    return ctx.build(lambda: _step_kind(node, ctx, common), line=node.line)


def _step_kind(node: Node, ctx: JobContext, common: dict) -> Step:
    for kind in ScriptKind:
        if node.has(kind.value):
            interpreter = node.child("scriptinterpreter")
            return ScriptStep(
                kind=kind,
                source=node.get(kind.value) or "",
                args=node.get("scriptargs") or None,
                interpreter=(interpreter.text or None) if interpreter is not None else None,
                args_quoted=interpreter.bool("argsquoted", False) if interpreter is not None else False,
                file_extension=node.get("fileExtension") or None,
                **common,
            )
    if node.has("exec"):
        return ExecStep(command=node.get("exec") or "", **common)
    jobref = node.child("jobref")
    if jobref is not None:
        return _jobref(jobref, common)
    for tag, node_step in (("node-step-plugin", True), ("step-plugin", False)):
        plugin = node.child(tag)
        if plugin is not None:
            configuration = plugin.child("configuration")
            return PluginStep(
                type=plugin.get("type") or "",
                node_step=node_step,
                configuration=_entries(configuration) if configuration is not None else None,
                **common,
            )
    raise ctx.error(
        "<command> has no step (exec, script, scriptfile, scripturl, jobref, node-step-plugin or step-plugin)",
        line=node.line,
    )


def _jobref(node: Node, common: dict) -> JobRefStep:
    arg = node.child("arg")
    dispatch = node.child("dispatch")
    filters = node.child("nodefilters")
    return JobRefStep(
        name=node.get("name") or None,
        group=trim_group(node.get("group")),
        uuid=node.get("uuid") or None,
        project=node.get("project") or None,
        args=arg.get("line") if arg is not None else None,
        node_step=node.bool("nodeStep", False),
        node_filter=(filters.get("filter") or None) if filters is not None else None,
        dispatch=JobRefDispatch(
            threadcount=dispatch.get("threadcount") or None,
            keepgoing=dispatch.opt_bool("keepgoing"),
            rank_attribute=dispatch.get("rankAttribute") or None,
            rank_order=dispatch.get("rankOrder") or None,
        )
        if dispatch is not None
        else None,
        import_options=node.bool("importOptions", False),
        fail_on_disable=node.bool("failOnDisable", False),
        child_nodes=node.bool("childNodes", False),
        ignore_notifications=node.bool("ignoreNotifications", False),
        use_name=node.bool("useName", False),
        **common,
    )


def _entries(configuration: Node) -> dict[str, str]:
    """``<configuration><entry key value/>…`` to a dict (entries without a key are skipped, as Rundeck does)."""
    result: dict[str, str] = {}
    for entry in configuration.children("entry"):
        key = entry.get("key")
        if key:
            result[key] = entry.get("value") or ""
    return result


def _notifications(node: Node | None, ctx: JobContext) -> dict[Trigger, tuple[Notification, ...]]:
    """Every trigger's notifications; the legacy sibling ``<format>``/``<httpMethod>`` apply to its webhooks."""
    if node is None:
        return {}
    triggers = [child for child in node.elements() if child.tag.startswith("on")]
    if not triggers:
        raise ctx.error("<notification> has no trigger element (onsuccess, onfailure, …)", line=node.line)
    result: dict[Trigger, tuple[Notification, ...]] = {}
    for trigger_node in triggers:
        try:
            trigger = Trigger(trigger_node.tag)
        except ValueError:
            raise ctx.error(f"unknown notification trigger <{trigger_node.tag}>", line=trigger_node.line) from None
        # A trigger written twice (the job-v20 reference does it) keeps the notifications of both.
        result[trigger] = result.get(trigger, ()) + _trigger_notifications(trigger_node, ctx)
    return result


def _trigger_notifications(node: Node, ctx: JobContext) -> tuple[Notification, ...]:
    found: list[Notification] = []
    legacy_format, legacy_method = node.get("format") or None, node.get("httpMethod") or None
    for child in node.elements():
        if child.tag == "email":
            found.append(
                EmailNotification(
                    recipients=_required(child, "recipients", node, ctx),
                    subject=child.get("subject") or None,
                    attach_log=child.opt_bool("attachLog"),
                    attach_log_in_file=child.opt_bool("attachLogInFile"),
                    attach_log_inline=child.opt_bool("attachLogInline"),
                )
            )
        elif child.tag == "webhook":
            found.append(
                WebhookNotification(
                    urls=_required(child, "urls", node, ctx),
                    format=child.get("format") or legacy_format,
                    http_method=child.get("httpMethod") or legacy_method,
                )
            )
        elif child.tag == "plugin":
            configuration = child.child("configuration")
            found.append(
                PluginNotification(
                    type=_required(child, "type", node, ctx),
                    configuration=_entries(configuration) if configuration is not None else {},
                )
            )
    if not found:
        raise ctx.error(f"<{node.tag}> has no email, webhook or plugin element", line=node.line)
    return tuple(found)


def _required(child: Node, attribute: str, trigger: Node, ctx: JobContext) -> str:
    """The non-blank ``attribute`` of a notification element of ``trigger``."""
    value = child.get(attribute)
    if not value:
        raise ctx.error(f"{trigger.tag} {child.tag} has a blank or missing {attribute!r}", line=child.line)
    return value


def _job_plugins(node: Node | None) -> dict[str, tuple[JobPlugin, ...]] | None:
    """``<plugins><Service type=…><configuration data='true'>…`` (empty ``<plugins />`` is kept as ``{}``)."""
    if node is None:
        return None
    services: dict[str, list[JobPlugin]] = {}
    for provider in node.elements():
        configuration = provider.child("configuration")
        data = _configuration_data(configuration) if configuration is not None else None
        services.setdefault(provider.tag, []).append(JobPlugin(type=provider.get("type") or "", configuration=data))
    return {service: tuple(plugins) for service, plugins in services.items()}


def _configuration_data(node: Node) -> DataValue | None:
    values = [_data_value(child) for child in node.elements()]
    return values[0] if values and values[0] not in ({}, [], "") else None


def _data_value(node: Node) -> DataValue:
    """Generic data: ``<map>`` (children carry ``key``), ``<list>``, ``<set>``, ``<value>`` (also ``<string>``)."""
    if node.tag == "map":
        return {child.element.get("key") or "": _data_value(child) for child in node.elements()}
    if node.tag == "list":
        return [_data_value(child) for child in node.elements()]
    if node.tag == "set":
        return DataSet(_data_value(child) for child in node.elements())
    return node.text
