"""The canonical job XML export, byte for byte as Rundeck writes it (``JobXMLFormat.encode``).

Rundeck builds a map per job (``ScheduledExecution.toMap`` + ``JobsXMLCodec.convertJobMap``) and writes it with
Groovy's MarkupBuilder through ``BuilderUtil`` in canonical mode:

- no XML declaration, 2-space indent, LF line ends, no final newline, ``<x />`` for empty elements;
- attributes in single quotes; every element and attribute name sorted in Java ``String`` order (a ``<cdata>``
  key suffix takes part, so ``script`` sorts before ``scriptargs``); repeated elements keep their order;
- text escapes ``& < >``; attributes also ``'`` and ``\\n \\r \\t``; ``script`` is always CDATA, any other text
  with a line break is CDATA after CRLF/CR → LF, and ``]]>`` is split.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from xlr_runtime.rundeck.jobs.model import (
    DataSet,
    DataValue,
    EmailNotification,
    ExecStep,
    Job,
    JobPlugin,
    JobRefStep,
    Notification,
    Option,
    PluginNotification,
    PluginStep,
    RawElement,
    Schedule,
    ScriptKind,
    ScriptStep,
    Step,
    Trigger,
    WebhookNotification,
    Workflow,
    fits_legacy_notification_form,
)

#: Characters XML 1.0 cannot carry, even escaped (control characters but tab and line ends, lone surrogates, …).
NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def escape_not_xml(text: str) -> str:
    """``text`` with each character XML cannot carry written as ``\\xNN`` (``"a\\x07b"``), so any text fits in XML."""
    return NOT_XML.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


_CDATA = "<cdata>"
_NAME_START = (
    "A-Za-z_\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff"
    "\u200c-\u200d\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd"
)
#: An XML name without a colon; others (``1``, ``-x``, ``a b``) are written as ``<element name='…'>``.
_NCNAME = re.compile(f"^[{_NAME_START}][{_NAME_START}\\-.0-9\u00b7\u0300-\u036f\u203f-\u2040]*$")


@dataclass
class El:
    """One element to write: sorted attributes, then children, or text (``None`` text and no children = empty)."""

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[El] = field(default_factory=list)
    text: str | None = None
    cdata: bool = False


def dump_jobs_xml(jobs: Iterable[Job]) -> str:
    """Write jobs as Rundeck's canonical ``<joblist>`` export (deterministic: same jobs, same bytes)."""
    root = El("joblist", children=[El("job", children=_sorted(_job_items(job))) for job in jobs])
    lines: list[str] = []
    _write(root, 0, lines)
    return "\n".join(lines)


# -- serialisation -------------------------------------------------------------------------------------------


def _escape_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attr(value: str) -> str:
    escaped = _escape_text(value).replace("'", "&apos;")
    return escaped.replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#09;")


def _write(element: El, depth: int, lines: list[str]) -> None:
    indent = "  " * depth
    tag, attrs = element.tag, dict(element.attrs)
    if not _NCNAME.match(tag):
        tag, attrs = "element", {"name": element.tag, **attrs}
    opening = tag + "".join(f" {key}='{_escape_attr(value)}'" for key, value in attrs.items())
    if element.children:
        lines.append(f"{indent}<{opening}>")
        for child in element.children:
            _write(child, depth + 1, lines)
        lines.append(f"{indent}</{tag}>")
    elif element.text is None:
        lines.append(f"{indent}<{opening} />")
    elif element.cdata:
        body = element.text.replace("]]>", "]]]]><![CDATA[>")
        lines.append(f"{indent}<{opening}><![CDATA[{body}]]></{tag}>")
    else:
        lines.append(f"{indent}<{opening}>{_escape_text(element.text)}</{tag}>")


# -- building blocks -----------------------------------------------------------------------------------------

Item = tuple[str, El]


def _sorted(items: Iterable[Item]) -> list[El]:
    """Children in canonical order: by map key (Java String order), repeated keys in their own order."""
    return [element for _, element in sorted(items, key=lambda item: item[0])]


def _attrs(**values: str | bool | None) -> dict[str, str]:
    """Attributes in sorted order, skipping ``None``; booleans as ``true``/``false``."""
    rendered = {k: ("true" if v else "false") if isinstance(v, bool) else v for k, v in values.items()}
    return {k: v for k, v in sorted(rendered.items()) if v is not None}


def _leaf(key: str, value: str | bool | None, *, cdata: bool = False) -> Item:
    """A text element; CRLF/CR become LF and text with a line break is CDATA (``key<cdata>`` when forced)."""
    if value is None:
        return (key, El(key))
    text = "true" if value is True else "false" if value is False else value
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return (key + _CDATA if cdata else key, El(key, text=text, cdata=cdata or "\n" in text))


def _multiline_key(key: str, value: str) -> Item:
    """Rundeck renames ``description`` to ``description<cdata>`` when it has a line break (affects sorting)."""
    return _leaf(key, value, cdata="\n" in value or "\r" in value)


def _raw(raw: RawElement) -> El:
    children = _sorted((child.tag, _raw(child)) for child in raw.children)
    if children:
        return El(raw.tag, dict(sorted(raw.attributes)), children)
    leaf = El(raw.tag) if raw.text is None else _leaf(raw.tag, raw.text)[1]
    leaf.attrs = dict(sorted(raw.attributes))
    return leaf


def _entries(configuration: dict[str, str] | None, tag: str = "configuration") -> list[Item]:
    if not configuration:
        return []
    entries = [El("entry", _attrs(key=key, value=configuration[key])) for key in sorted(configuration)]
    return [(tag, El(tag, children=entries))]


# -- the job -------------------------------------------------------------------------------------------------


def _job_items(job: Job) -> list[Item]:
    items: list[Item] = [
        _multiline_key("description", job.description),
        _leaf("executionEnabled", job.execution_enabled),
        _leaf("loglevel", job.loglevel),
        _leaf("name", job.name),
        _leaf("nodeFilterEditable", job.node_filter_editable),
        _leaf("scheduleEnabled", job.schedule_enabled),
        ("sequence", _workflow(job.sequence)),
    ]
    identity = job.uuid or job.id
    if identity:
        items.append(_leaf("id", identity))
    if job.uuid:
        items.append(_leaf("uuid", job.uuid))
    optional = {
        "defaultTab": job.default_tab,
        "group": job.group,
        "maxMultipleExecutions": job.max_multiple_executions,
        "timeZone": job.time_zone,
        "timeout": job.timeout,
        "notifyAvgDurationThreshold": job.notify_avg_duration_threshold,
    }
    items.extend(_leaf(key, value) for key, value in optional.items() if value is not None)
    if job.multiple_executions:
        items.append(_leaf("multipleExecutions", True))
    if job.options:
        options = El("options", {"preserveOrder": "true"}, [_option(option) for option in job.options])
        items.append(("context", El("context", children=[options])))
    if job.retry is not None:
        items.append(_retry(job.retry, job.retry_delay))
    if job.log_limit:
        attrs = _attrs(limit=job.log_limit, limitAction=job.log_limit_action or "halt", status=job.log_limit_status)
        items.append(("logging", El("logging", attrs)))
    if job.schedule is not None:
        items.append(("schedule", _schedule(job.schedule)))
    if job.has_node_filter:
        items.extend(_node_dispatch(job))
    if job.notifications:
        items.append(("notification", _notifications(job.notifications)))
    if job.plugins is not None:
        items.append(("plugins", _job_plugins(job.plugins)))
    if job.orchestrator is not None:
        items.append(("orchestrator", _raw(job.orchestrator)))
    items.extend((raw.tag, _raw(raw)) for raw in job.extra)
    return items


def _retry(retry: str, delay: str | None) -> Item:
    if delay is None:
        return _leaf("retry", retry)
    return ("retry", El("retry", {"delay": delay}, text=retry))


def _node_dispatch(job: Job) -> list[Item]:
    dispatch = job.dispatch
    fields = [
        _leaf("excludePrecedence", dispatch.exclude_precedence),
        _leaf("keepgoing", dispatch.keepgoing),
        _leaf("rankOrder", dispatch.rank_order),
        _leaf("successOnEmptyNodeFilter", dispatch.success_on_empty_node_filter),
        _leaf("threadcount", dispatch.threadcount),
    ]
    if dispatch.rank_attribute is not None:
        fields.append(_leaf("rankAttribute", dispatch.rank_attribute))
    filters = [_leaf("filter", job.node_filter)]
    if job.filter_exclude:
        filters.append(_leaf("filterExclude", job.filter_exclude))
    return [
        ("dispatch", El("dispatch", children=_sorted(fields))),
        ("nodefilters", El("nodefilters", children=_sorted(filters))),
        _leaf("nodesSelectedByDefault", job.nodes_selected_by_default),
    ]


def _option(option: Option) -> El:
    delimiter = option.values_list_delimiter or ","
    attrs = _attrs(
        name=option.name,
        value=option.value,
        values=delimiter.join(option.values) if option.values else None,
        valuesListDelimiter=option.values_list_delimiter,
        enforcedvalues=True if option.enforced else None,
        regex=option.regex,
        valuesUrl=option.values_url,
        required=True if option.required else None,
        multivalued=True if option.multivalued else None,
        delimiter=option.delimiter if option.multivalued else None,
        multivalueAllSelected=True if option.multivalued and option.multivalue_all_selected else None,
        secure=True if option.secure else None,
        valueExposed=True if option.value_exposed else None,
        storagePath=option.storage_path,
        type=option.type,
    )
    children: list[Item] = []
    if option.description:
        children.append(_multiline_key("description", option.description))
    for key, value in (("label", option.label), ("dateFormat", option.date_format), ("sortValues", option.sort_values)):
        if value is not None:
            children.append(_leaf(key, value))
    for key, flag in (("isDate", option.is_date), ("hidden", option.hidden)):
        if flag:
            children.append(_leaf(key, True))
    if option.type:
        children.extend(_entries(option.config, "config"))
    return El("option", attrs, _sorted(children))


def _schedule(schedule: Schedule) -> El:
    """Always the element form: ``<dayofmonth />`` + ``<month day month/>`` or ``<month/>`` + ``<weekday/>``."""
    items: list[Item] = [
        ("time", El("time", _attrs(hour=schedule.hour, minute=schedule.minute, seconds=schedule.seconds))),
        ("year", El("year", _attrs(year=schedule.year))),
    ]
    if schedule.day_of_month != "?":
        items.append(("dayofmonth", El("dayofmonth")))
        items.append(("month", El("month", _attrs(day=schedule.day_of_month, month=schedule.month))))
    else:
        items.append(("month", El("month", _attrs(month=schedule.month))))
        items.append(("weekday", El("weekday", _attrs(day=schedule.day_of_week))))
    return El("schedule", children=_sorted(items))


# -- workflow ------------------------------------------------------------------------------------------------


def _workflow(workflow: Workflow) -> El:
    items: list[Item] = [("command", El("command", children=_sorted(_step_items(step)))) for step in workflow.steps]
    if workflow.plugin_config is not None:
        items.append(("pluginConfig", _raw(workflow.plugin_config)))
    return El("sequence", _attrs(keepgoing=workflow.keepgoing, strategy=workflow.strategy), _sorted(items))


def _step_items(step: Step) -> list[Item]:
    items = _kind_items(step)
    if step.description is not None:
        items.append(_leaf("description", step.description))
    if step.errorhandler is not None:
        handler = step.errorhandler
        attrs = _attrs(keepgoingOnSuccess=handler.keepgoing_on_success)
        items.append(("errorhandler", El("errorhandler", attrs, _sorted(_step_items(handler)))))
    if step.plugins is not None:
        items.append(("plugins", _raw(step.plugins)))
    items.extend((raw.tag, _raw(raw)) for raw in step.extra)
    return items


def _kind_items(step: Step) -> list[Item]:
    if isinstance(step, ExecStep):
        return [_leaf("exec", step.command)]
    if isinstance(step, ScriptStep):
        return _script_items(step)
    if isinstance(step, JobRefStep):
        return [("jobref", _jobref(step))]
    if isinstance(step, PluginStep):
        tag = "node-step-plugin" if step.node_step else "step-plugin"
        return [(tag, El(tag, _attrs(type=step.type), _sorted(_entries(step.configuration))))]
    raise TypeError(f"unknown step type {type(step).__name__}")


def _script_items(step: ScriptStep) -> list[Item]:
    items = [_leaf("scriptargs", step.args)]
    if step.kind is ScriptKind.SCRIPT:
        items.append(_leaf("script", step.source, cdata=True))
    else:
        items.append(_leaf(step.kind.value, step.source))
    if step.interpreter:
        attrs = {"argsquoted": "true"} if step.args_quoted else {}
        items.append(("scriptinterpreter", El("scriptinterpreter", attrs, text=step.interpreter)))
    if step.file_extension is not None:
        items.append(_leaf("fileExtension", step.file_extension))
    return items


def _jobref(step: JobRefStep) -> El:
    attrs = _attrs(
        name=step.name, group=step.group or None, project=step.project, nodeStep=True if step.node_step else None
    )
    items: list[Item] = []
    if step.args is not None:
        items.append(("arg", El("arg", {"line": step.args})))
    flags = (
        ("childNodes", step.child_nodes),
        ("failOnDisable", step.fail_on_disable),
        ("ignoreNotifications", step.ignore_notifications),
        ("importOptions", step.import_options),
        ("useName", step.use_name),
    )
    items.extend(_leaf(key, True) for key, flag in flags if flag)
    if step.dispatch is not None:
        children = _sorted(_leaf(key, value) for key, value in step.dispatch.rundeck_fields().items())
        items.append(("dispatch", El("dispatch", children=children)))
    if step.node_filter is not None:
        items.append(("nodefilters", El("nodefilters", children=[_leaf("filter", step.node_filter)[1]])))
    if step.uuid is not None:
        items.append(_leaf("uuid", step.uuid))
    return El("jobref", attrs, _sorted(items))


# -- notifications and plugins ---------------------------------------------------------------------------------


def _notifications(notifications: dict[Trigger, tuple[Notification, ...]]) -> El:
    legacy = fits_legacy_notification_form(notifications)
    triggers = [
        (trigger.value, El(trigger.value, children=_sorted(_trigger_items(found, legacy=legacy))))
        for trigger, found in notifications.items()
    ]
    return El("notification", children=_sorted(triggers))


def _trigger_items(found: Sequence[Notification], *, legacy: bool) -> list[Item]:
    items: list[Item] = []
    plugins = sorted((n for n in found if isinstance(n, PluginNotification)), key=lambda n: n.type)
    for notification in found:
        if isinstance(notification, EmailNotification):
            attrs = _attrs(
                recipients=notification.recipients,
                subject=notification.subject,
                attachLog=notification.attach_log,
                attachLogInFile=notification.attach_log_in_file,
                attachLogInline=notification.attach_log_inline,
            )
            items.append(("email", El("email", attrs)))
        elif isinstance(notification, WebhookNotification) and legacy:
            items.append(("webhook", El("webhook", {"urls": notification.urls})))
            items.extend(
                _leaf(key, value)
                for key, value in (("format", notification.format), ("httpMethod", notification.http_method))
                if value
            )
        elif isinstance(notification, WebhookNotification):
            attrs = _attrs(urls=notification.urls, format=notification.format, httpMethod=notification.http_method)
            items.append(("webhook", El("webhook", attrs)))
    for plugin in plugins:
        items.append(("plugin", El("plugin", _attrs(type=plugin.type), _sorted(_entries(plugin.configuration)))))
    return items


def _job_plugins(plugins: dict[str, tuple[JobPlugin, ...]]) -> El:
    items: list[Item] = []
    for service, providers in plugins.items():
        for provider in providers:
            children = []
            if provider.configuration not in (None, {}, [], ""):
                children.append(El("configuration", {"data": "true"}, [_data(provider.configuration)]))
            items.append((service, El(service, _attrs(type=provider.type), children)))
    return El("plugins", children=_sorted(items))


def _data(value: DataValue, key: str | None = None) -> El:
    """Generic data: ``<map>`` entries carry ``key``; strings are ``<value>`` (CDATA when multi-line)."""
    attrs = {"key": key} if key is not None else {}
    if isinstance(value, dict):
        return El("map", attrs, [_data(item, item_key) for item_key, item in value.items()])
    if isinstance(value, DataSet):
        return El("set", attrs, [_data(item) for item in value])
    if isinstance(value, list):
        return El("list", attrs, [_data(item) for item in value])
    return El("value", attrs, text=value, cdata="\n" in value)
