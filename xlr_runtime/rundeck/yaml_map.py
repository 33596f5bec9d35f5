"""Rundeck's canonical job map (``ScheduledExecution.toMap`` / ``fromMap``) to and from the job model.

The YAML codec reads and writes this map; values read are lenient like Rundeck's (``'true'`` or ``true``,
``3`` or ``'3'``).
"""

from __future__ import annotations

from typing import Any

from xlr_runtime.rundeck.model import (
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
    RawElement,
    Schedule,
    ScriptKind,
    ScriptStep,
    Step,
    Trigger,
    WebhookNotification,
    Workflow,
    trim_group,
)
from xlr_runtime.rundeck.validation import (
    JobContext,
    deprecated_filter,
    validate_job,
    validate_option,
    validate_schedule,
)
from xlr_runtime.rundeck.xmlread import parse_bool

_JOB_KEYS = frozenset(
    [
        "uuid",
        "id",
        "name",
        "description",
        "group",
        "project",
        "loglevel",
        "loglimit",
        "loglimitAction",
        "loglimitStatus",
        "timeout",
        "retry",
        "retryDelay",
        "multipleExecutions",
        "maxMultipleExecutions",
        "executionEnabled",
        "scheduleEnabled",
        "nodeFilterEditable",
        "nodesSelectedByDefault",
        "nodefilters",
        "schedule",
        "timeZone",
        "sequence",
        "notification",
        "notifyAvgDurationThreshold",
        "plugins",
        "orchestrator",
        "defaultTab",
        "options",
    ]
)
#: Key of an element's text when it also has attributes (Rundeck's ``XmlParserUtil`` uses the same).
_TEXT = "<text>"
_STEP_KEYS = frozenset(
    [
        "exec",
        "script",
        "scriptfile",
        "scripturl",
        "args",
        "scriptInterpreter",
        "interpreterArgsQuoted",
        "fileExtension",
        "jobref",
        "type",
        "nodeStep",
        "configuration",
        "errorhandler",
        "description",
        "plugins",
        "keepgoingOnSuccess",
    ]
)


def _str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _bool(value: Any, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    return parse_bool(_str(value), default)


def _opt_bool(value: Any) -> bool | None:
    return None if value is None or _str(value) == "" else _bool(value, False)


def _map(value: Any, what: str) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a map")
    return value


# -- reading -------------------------------------------------------------------------------------------------


def job_from_map(data: dict[str, Any], ctx: JobContext) -> Job:
    """Build and validate one job from its canonical map (``ScheduledExecution.fromMap``)."""
    name = _str(data.get("name"))
    if not name:
        raise ctx.error(f"job #{ctx.index} has no name", named=False)
    ctx.name = name
    if data.get("description") is None:
        raise ctx.error("missing description (it may be empty)")
    if not data.get("sequence"):
        raise ctx.error("missing sequence")
    return ctx.build(lambda: _job(data, name, ctx))


def _job(data: dict[str, Any], name: str, ctx: JobContext) -> Job:
    retry, delay = data.get("retry"), _str(data.get("retryDelay"))
    if isinstance(retry, dict):
        retry, delay = retry.get("retry"), _str(retry.get("delay"))
    filters = _map(data.get("nodefilters"), "nodefilters")
    node_filter = (
        _str(filters.get("filter"))
        or deprecated_filter(
            {k: {key: _str(v) or "" for key, v in _map(filters.get(k), k).items()} for k in ("include", "exclude")}
        )
        or None
    )
    log_limit = _str(data.get("loglimit")) or None
    schedule = _schedule(_map(data.get("schedule"), "schedule")) if data.get("schedule") else None
    if schedule is not None:
        validate_schedule(schedule, crontab=_str(_map(data.get("schedule"), "schedule").get("crontab")) or None)
    job = Job(
        name=name,
        description=_str(data.get("description")) or "",
        uuid=_str(data.get("uuid")) or None,
        id=None if data.get("uuid") else (_str(data.get("id")) or None),
        group=trim_group(_str(data.get("group"))),
        loglevel=_str(data.get("loglevel")) or "INFO",
        default_tab=_str(data.get("defaultTab")),
        execution_enabled=_bool(data.get("executionEnabled"), True),
        schedule_enabled=_bool(data.get("scheduleEnabled"), True),
        node_filter_editable=_bool(data.get("nodeFilterEditable"), True),
        multiple_executions=_bool(data.get("multipleExecutions"), False),
        max_multiple_executions=_str(data.get("maxMultipleExecutions")) or None,
        timeout=_str(data.get("timeout")) or None,
        retry=_str(retry) or None,
        retry_delay=delay or None,
        log_limit=log_limit,
        log_limit_action=(_str(data.get("loglimitAction")) or "halt") if log_limit else None,
        log_limit_status=(_str(data.get("loglimitStatus")) or None) if log_limit else None,
        schedule=schedule,
        time_zone=_str(data.get("timeZone")) or None,
        options=_options(data.get("options")),
        node_filter=node_filter,
        filter_exclude=_str(filters.get("filterExclude")) or None,
        nodes_selected_by_default=_bool(data.get("nodesSelectedByDefault"), True),
        dispatch=_dispatch(_map(filters.get("dispatch"), "dispatch")) if node_filter else Dispatch(),
        notifications=_notifications(_map(data.get("notification"), "notification")),
        notify_avg_duration_threshold=_str(data.get("notifyAvgDurationThreshold")) or None,
        plugins=_plugins(data.get("plugins")),
        orchestrator=to_raw("orchestrator", data["orchestrator"]) if data.get("orchestrator") else None,
        sequence=_workflow(_map(data.get("sequence"), "sequence"), ctx),
        extra=tuple(
            raw
            for index, (key, value) in enumerate(data.items())
            if key not in _JOB_KEYS
            for raw in to_raws(str(key), value, index)
        ),
    )
    validate_job(job)
    return job


def _schedule(data: dict[str, Any]) -> Schedule:
    if data.get("crontab"):
        return Schedule.from_crontab(str(data["crontab"]))
    time = _map(data.get("time"), "schedule time")
    dom = _str(_map(data.get("dayofmonth"), "dayofmonth").get("day"))
    dow = _str(_map(data.get("weekday"), "weekday").get("day"))
    month = data.get("month")
    if isinstance(month, dict):
        dom = dom or _str(month.get("day"))
        month = month.get("month")
    return Schedule(
        seconds=_str(time.get("seconds")) or "0",
        minute=_str(time.get("minute")) or "0",
        hour=_str(time.get("hour")) or "0",
        day_of_month=dom if dom else "?",
        month=_str(month) or "*",
        day_of_week="?" if dom else (dow or "*"),
        year=_str(data.get("year")) or "*",
    )


def _options(data: Any) -> tuple[Option, ...]:
    """A list keeps its order; the legacy map form is ordered by sortIndex, then name."""
    if not data:
        return ()
    if isinstance(data, list):
        return tuple(validate_option(_option(_map(item, "an option"), None)) for item in data)
    items = [(name, _map(value, f'option "{name}"')) for name, value in _map(data, "options").items()]
    options = [validate_option(_option(value, str(name))) for name, value in items]
    indexes = {str(name): value.get("sortIndex") for name, value in items}
    with_index = sorted((o for o in options if indexes[o.name] is not None), key=lambda o: int(indexes[o.name]))
    without = sorted((o for o in options if indexes[o.name] is None), key=lambda o: o.name)
    return tuple(with_index + without)


def _option(data: dict[str, Any], name: str | None) -> Option:
    delimiter = _str(data.get("valuesListDelimiter")) or None
    values = data.get("values")
    if isinstance(values, str):
        values = values.split(delimiter or ",")
    config = _map(data.get("config"), "option config")
    return Option(
        name=name or _str(data.get("name")) or "",
        value=_str(data.get("value")),
        values=tuple(_str(v) or "" for v in values) if values else None,
        values_list_delimiter=delimiter,
        values_url=_str(data.get("valuesUrl")) or None,
        enforced=_bool(data.get("enforced"), False),
        regex=_str(data.get("regex")) or None,
        required=_bool(data.get("required"), False),
        multivalued=_bool(data.get("multivalued"), False),
        delimiter=_str(data.get("delimiter")) or None,
        multivalue_all_selected=_bool(data.get("multivalueAllSelected"), False),
        secure=_bool(data.get("secure"), False),
        value_exposed=_bool(data.get("valueExposed"), False),
        storage_path=_str(data.get("storagePath")) or None,
        is_date=_bool(data.get("isDate"), False),
        date_format=_str(data.get("dateFormat")) or None,
        hidden=_bool(data.get("hidden"), False),
        sort_values=_str(data.get("sortValues")) or None,
        label=_str(data.get("label")) or None,
        description=_str(data.get("description")) or None,
        type=_str(data.get("type")) or None,
        config={str(k): _str(v) or "" for k, v in config.items()} or None,
    )


def _dispatch(data: dict[str, Any]) -> Dispatch:
    rank_order = _str(data.get("rankOrder"))
    return Dispatch(
        threadcount=_str(data.get("threadcount")) or "1",
        keepgoing=_bool(data.get("keepgoing"), False),
        exclude_precedence=_bool(data.get("excludePrecedence"), True),
        rank_attribute=_str(data.get("rankAttribute")) or None,
        rank_order="ascending" if rank_order in (None, "", "ascending") else "descending",
        success_on_empty_node_filter=_bool(data.get("successOnEmptyNodeFilter"), False),
    )


def _workflow(data: dict[str, Any], ctx: JobContext) -> Workflow:
    commands = data.get("commands")
    if not commands or not isinstance(commands, list):
        raise ValueError("sequence has no commands")
    return Workflow(
        steps=tuple(_step(_map(command, "a command"), handler=False) for command in commands),
        keepgoing=_bool(data.get("keepgoing"), False),
        strategy=_str(data.get("strategy")) or "node-first",
        plugin_config=to_raw("pluginConfig", data["pluginConfig"]) if data.get("pluginConfig") else None,
    )


def _step(data: dict[str, Any], *, handler: bool) -> Step:
    handler_data = None if handler else data.get("errorhandler")
    common: dict[str, Any] = {
        "description": _str(data.get("description")) or None,
        "errorhandler": _step(_map(handler_data, "errorhandler"), handler=True) if handler_data else None,
        "keepgoing_on_success": _opt_bool(data.get("keepgoingOnSuccess")) if handler else None,
        "plugins": to_raw("plugins", data["plugins"]) if data.get("plugins") else None,
        "extra": tuple(
            raw
            for index, (key, value) in enumerate(data.items())
            if key not in _STEP_KEYS
            for raw in to_raws(str(key), value, index)
        ),
    }
    for kind in ScriptKind:
        if kind.value in data:
            return ScriptStep(
                kind=kind,
                source=_str(data.get(kind.value)) or "",
                args=_str(data.get("args")) or None,
                interpreter=_str(data.get("scriptInterpreter")) or None,
                args_quoted=_bool(data.get("interpreterArgsQuoted"), False),
                file_extension=_str(data.get("fileExtension")) or None,
                **common,
            )
    if "exec" in data:
        return ExecStep(command=_str(data.get("exec")) or "", **common)
    if "jobref" in data:
        return _jobref(_map(data["jobref"], "jobref"), common)
    if data.get("type"):
        configuration = _map(data.get("configuration"), "configuration")
        return PluginStep(
            type=str(data["type"]),
            node_step=_bool(data.get("nodeStep"), False),
            configuration={str(k): _str(v) or "" for k, v in configuration.items()} or None,
            **common,
        )
    raise ValueError("a command has no step (exec, script, scriptfile, scripturl, jobref or a plugin type)")


def _jobref(data: dict[str, Any], common: dict[str, Any]) -> JobRefStep:
    filters = _map(data.get("nodefilters"), "jobref nodefilters")
    dispatch = _map(filters.get("dispatch"), "jobref dispatch") if "dispatch" in filters else None
    return JobRefStep(
        name=_str(data.get("name")) or None,
        group=trim_group(_str(data.get("group"))),
        uuid=_str(data.get("uuid")) or None,
        project=_str(data.get("project")) or None,
        args=_str(data.get("args")),
        node_step=_bool(data.get("nodeStep"), False),
        node_filter=_str(filters.get("filter")) or None,
        dispatch=JobRefDispatch(
            threadcount=_str(dispatch.get("threadcount")) or None,
            keepgoing=_opt_bool(dispatch.get("keepgoing")),
            rank_attribute=_str(dispatch.get("rankAttribute")) or None,
            rank_order=_str(dispatch.get("rankOrder")) or None,
        )
        if dispatch is not None
        else None,
        import_options=_bool(data.get("importOptions"), False),
        fail_on_disable=_bool(data.get("failOnDisable"), False),
        child_nodes=_bool(data.get("childNodes"), False),
        ignore_notifications=_bool(data.get("ignoreNotifications"), False),
        use_name=_bool(data.get("useName"), False),
        **common,
    )


def _notifications(data: dict[str, Any]) -> dict[Trigger, tuple[Notification, ...]]:
    result: dict[Trigger, tuple[Notification, ...]] = {}
    for key, value in data.items():
        if not str(key).startswith("on"):
            continue
        try:
            trigger = Trigger(key)
        except ValueError:
            raise ValueError(f"unknown notification trigger {key}") from None
        entries = value if isinstance(value, list) else [value]
        found = [n for entry in entries for n in _trigger_entry(_map(entry, key), key)]
        if not found:
            raise ValueError(f"{key} has no email, urls or plugin")
        result[trigger] = tuple(found)
    return result


def _trigger_entry(data: dict[str, Any], trigger: str) -> list[Notification]:
    found: list[Notification] = []
    if "email" in data:
        email = _map(data["email"], f"{trigger} email")
        if not email.get("recipients"):
            raise ValueError(f"{trigger} email has a blank or missing 'recipients'")
        found.append(
            EmailNotification(
                recipients=str(email["recipients"]),
                subject=_str(email.get("subject")) or None,
                attach_log=_opt_bool(email.get("attachLog")),
                attach_log_in_file=_opt_bool(email.get("attachLogInFile")),
                attach_log_inline=_opt_bool(email.get("attachLogInline")),
            )
        )
    if "urls" in data or "webhook" in data:
        urls = _str(data.get("urls") or data.get("webhook"))
        if not urls:
            raise ValueError(f"{trigger} webhook has a blank or missing 'urls'")
        found.append(
            WebhookNotification(
                urls=urls, format=_str(data.get("format")) or None, http_method=_str(data.get("httpMethod")) or None
            )
        )
    plugins = data.get("plugin")
    for plugin in plugins if isinstance(plugins, list) else [plugins] if plugins else []:
        plugin = _map(plugin, f"{trigger} plugin")
        if not plugin.get("type"):
            raise ValueError(f"{trigger} plugin has a blank or missing 'type'")
        configuration = _map(plugin.get("configuration"), "plugin configuration")
        found.append(
            PluginNotification(
                type=str(plugin["type"]), configuration={str(k): _str(v) or "" for k, v in configuration.items()}
            )
        )
    return found


def _plugins(data: Any) -> dict[str, tuple[JobPlugin, ...]] | None:
    if data is None:
        return None
    services = _map(data, "plugins")
    return {
        str(service): tuple(
            JobPlugin(type=str(kind), configuration=_data(config) if config else None)
            for kind, config in _map(providers, f"plugins {service}").items()
        )
        for service, providers in services.items()
    }


def _data(value: Any) -> DataValue:
    if isinstance(value, dict):
        return {str(k): _data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_data(v) for v in value]
    return _str(value) or ""


def to_raws(tag: str, value: Any, position: int = 0) -> list[RawElement]:
    """A YAML value as raw elements: map keys become child elements (a scalar ``type`` an attribute), a list
    repeats the element, a scalar is its text."""
    if isinstance(value, list):
        return [raw for item in value for raw in to_raws(tag, item, position)]
    if isinstance(value, dict):

        def is_attribute(key: Any, item: Any) -> bool:
            return key == "type" and not isinstance(item, dict | list)

        attributes = tuple((str(k), _str(v) or "") for k, v in value.items() if is_attribute(k, v))
        children = tuple(
            raw for k, v in value.items() if not is_attribute(k, v) and k != _TEXT for raw in to_raws(str(k), v)
        )
        return [RawElement(tag, attributes, _str(value.get(_TEXT)), children, position)]
    return [RawElement(tag, (), _str(value), (), position)]


def to_raw(tag: str, value: Any) -> RawElement:
    """A YAML map (pluginConfig, orchestrator, step plugins) as one raw element."""
    return to_raws(tag, value)[0]


def from_raw(raw: RawElement) -> Any:
    """A raw element as YAML data: attributes and children as keys, repeated children as lists, text as str."""
    if not raw.children and not raw.attributes:
        return {} if raw.text is None else raw.text
    result: dict[str, Any] = dict(raw.attributes)
    if raw.text is not None and not raw.children:
        result[_TEXT] = raw.text
    for child in raw.children:
        value = from_raw(child)
        if child.tag in result:
            existing = result[child.tag]
            result[child.tag] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            result[child.tag] = value
    return result


# -- writing -------------------------------------------------------------------------------------------------


def job_to_map(job: Job) -> dict[str, Any]:
    """The canonical map of a job (``ScheduledExecution.toMap``): only what is set, Rundeck's key names."""
    data: dict[str, Any] = {
        "name": job.name,
        "description": job.description,
        "loglevel": job.loglevel,
        "executionEnabled": job.execution_enabled,
        "scheduleEnabled": job.schedule_enabled,
        "nodeFilterEditable": job.node_filter_editable,
        "sequence": _workflow_map(job.sequence),
    }
    if job.uuid or job.id:
        data["id"] = job.uuid or job.id
    optional = {
        "uuid": job.uuid,
        "group": job.group,
        "defaultTab": job.default_tab,
        "timeout": job.timeout,
        "timeZone": job.time_zone,
        "maxMultipleExecutions": job.max_multiple_executions,
        "notifyAvgDurationThreshold": job.notify_avg_duration_threshold,
    }
    data.update({k: v for k, v in optional.items() if v is not None})
    if job.multiple_executions:
        data["multipleExecutions"] = True
    if job.retry is not None:
        data["retry"] = {"retry": job.retry, "delay": job.retry_delay} if job.retry_delay else job.retry
    if job.log_limit:
        data["loglimit"] = job.log_limit
        data["loglimitAction"] = job.log_limit_action or "halt"
        if job.log_limit_status:
            data["loglimitStatus"] = job.log_limit_status
    if job.options:
        data["options"] = [_option_map(option) for option in job.options]
    if job.schedule is not None:
        data["schedule"] = _schedule_map(job.schedule)
    if job.has_node_filter:
        data["nodesSelectedByDefault"] = job.nodes_selected_by_default
        data["nodefilters"] = _filters_map(job)
    if job.notifications:
        data["notification"] = _notifications_map(job.notifications)
    if job.plugins is not None:
        data["plugins"] = {s: {p.type: _data_map(p.configuration) for p in ps} for s, ps in job.plugins.items()}
    if job.orchestrator is not None:
        data["orchestrator"] = from_raw(job.orchestrator)
    data.update(_extra_map(job.extra))
    return data


def _extra_map(extra: tuple[RawElement, ...]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for raw in extra:
        value = from_raw(raw)
        if raw.tag in result:
            existing = result[raw.tag]
            result[raw.tag] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            result[raw.tag] = value
    return result


def _data_map(value: DataValue | None) -> Any:
    if value is None:
        return {}
    if isinstance(value, dict):
        return {k: _data_map(v) for k, v in value.items()}
    if isinstance(value, list | DataSet):
        return [_data_map(v) for v in value]
    return value


def _option_map(option: Option) -> dict[str, Any]:
    data: dict[str, Any] = {"name": option.name}
    texts = {
        "value": option.value,
        "valuesListDelimiter": option.values_list_delimiter,
        "valuesUrl": option.values_url,
        "regex": option.regex,
        "storagePath": option.storage_path,
        "dateFormat": option.date_format,
        "sortValues": option.sort_values,
        "label": option.label,
        "description": option.description,
        "type": option.type,
    }
    data.update({k: v for k, v in texts.items() if v is not None})
    if option.values:
        data["values"] = list(option.values)
    flags = {
        "enforced": option.enforced,
        "required": option.required,
        "secure": option.secure,
        "valueExposed": option.value_exposed,
        "isDate": option.is_date,
        "hidden": option.hidden,
    }
    data.update({k: True for k, v in flags.items() if v})
    if option.multivalued:
        data["multivalued"] = True
        if option.delimiter is not None:
            data["delimiter"] = option.delimiter
        if option.multivalue_all_selected:
            data["multivalueAllSelected"] = True
    if option.type and option.config:
        data["config"] = dict(option.config)
    return data


def _schedule_map(schedule: Schedule) -> dict[str, Any]:
    data: dict[str, Any] = {
        "time": {"hour": schedule.hour, "minute": schedule.minute, "seconds": schedule.seconds},
        "month": schedule.month,
        "year": schedule.year,
    }
    if schedule.day_of_month != "?":
        data["dayofmonth"] = {"day": schedule.day_of_month}
    else:
        data["weekday"] = {"day": schedule.day_of_week}
    return data


def _filters_map(job: Job) -> dict[str, Any]:
    dispatch = job.dispatch
    data: dict[str, Any] = {
        "filter": job.node_filter,
        "dispatch": {
            "threadcount": int(dispatch.threadcount) if dispatch.threadcount.isdigit() else dispatch.threadcount,
            "keepgoing": dispatch.keepgoing,
            "excludePrecedence": dispatch.exclude_precedence,
            "rankOrder": dispatch.rank_order,
            "successOnEmptyNodeFilter": dispatch.success_on_empty_node_filter,
        },
    }
    if dispatch.rank_attribute is not None:
        data["dispatch"]["rankAttribute"] = dispatch.rank_attribute
    if job.filter_exclude:
        data["filterExclude"] = job.filter_exclude
    return data


def _workflow_map(workflow: Workflow) -> dict[str, Any]:
    data: dict[str, Any] = {
        "keepgoing": workflow.keepgoing,
        "strategy": workflow.strategy,
        "commands": [_step_map(step) for step in workflow.steps],
    }
    if workflow.plugin_config is not None:
        data["pluginConfig"] = from_raw(workflow.plugin_config)
    return data


def _step_map(step: Step) -> dict[str, Any]:
    data: dict[str, Any] = _kind_map(step)
    if step.description is not None:
        data["description"] = step.description
    if step.errorhandler is not None:
        data["errorhandler"] = _step_map(step.errorhandler)
        if step.errorhandler.keepgoing_on_success is not None:
            data["errorhandler"]["keepgoingOnSuccess"] = step.errorhandler.keepgoing_on_success
    if step.plugins is not None:
        data["plugins"] = from_raw(step.plugins)
    data.update(_extra_map(step.extra))
    return data


def _kind_map(step: Step) -> dict[str, Any]:
    if isinstance(step, ExecStep):
        return {"exec": step.command}
    if isinstance(step, ScriptStep):
        data: dict[str, Any] = {step.kind.value: step.source}
        optional = {"args": step.args, "scriptInterpreter": step.interpreter, "fileExtension": step.file_extension}
        data.update({k: v for k, v in optional.items() if v is not None})
        if step.interpreter and step.args_quoted:
            data["interpreterArgsQuoted"] = True
        return data
    if isinstance(step, JobRefStep):
        return {"jobref": _jobref_map(step)}
    if isinstance(step, PluginStep):
        data = {"type": step.type, "nodeStep": step.node_step}
        if step.configuration:
            data["configuration"] = dict(step.configuration)
        return data
    raise TypeError(f"unknown step type {type(step).__name__}")


def _jobref_map(step: JobRefStep) -> dict[str, Any]:
    texts = {"name": step.name, "group": step.group, "uuid": step.uuid, "project": step.project, "args": step.args}
    data: dict[str, Any] = {k: v for k, v in texts.items() if v is not None}
    flags = {
        "nodeStep": step.node_step,
        "importOptions": step.import_options,
        "failOnDisable": step.fail_on_disable,
        "childNodes": step.child_nodes,
        "ignoreNotifications": step.ignore_notifications,
        "useName": step.use_name,
    }
    data.update({k: True for k, v in flags.items() if v})
    filters: dict[str, Any] = {}
    if step.node_filter is not None:
        filters["filter"] = step.node_filter
    if step.dispatch is not None:
        dispatch = step.dispatch
        fields = {
            "threadcount": dispatch.threadcount,
            "keepgoing": dispatch.keepgoing,
            "rankAttribute": dispatch.rank_attribute,
            "rankOrder": dispatch.rank_order,
        }
        filters["dispatch"] = {k: v for k, v in fields.items() if v is not None}
    if filters:
        data["nodefilters"] = filters
    return data


def _notifications_map(notifications: dict[Trigger, tuple[Notification, ...]]) -> dict[str, Any]:
    """The map form per trigger when no trigger repeats a kind (as the XML legacy form), else a list."""
    legacy = not any(
        sum(isinstance(n, kind) for n in found) > 1
        for found in notifications.values()
        for kind in (EmailNotification, WebhookNotification)
    )
    result: dict[str, Any] = {}
    for trigger, found in notifications.items():
        entries = [_notification_map(n) for n in found]
        if legacy:
            merged: dict[str, Any] = {}
            plugins = [e["plugin"] for e in entries if "plugin" in e]
            for entry in entries:
                merged.update({k: v for k, v in entry.items() if k != "plugin"})
            if plugins:
                merged["plugin"] = plugins[0] if len(plugins) == 1 else sorted(plugins, key=lambda p: p["type"])
            result[trigger.value] = merged
        else:
            result[trigger.value] = entries
    return result


def _notification_map(notification: Notification) -> dict[str, Any]:
    if isinstance(notification, EmailNotification):
        email: dict[str, Any] = {"recipients": notification.recipients}
        optional = {
            "subject": notification.subject,
            "attachLog": notification.attach_log,
            "attachLogInFile": notification.attach_log_in_file,
            "attachLogInline": notification.attach_log_inline,
        }
        email.update({k: v for k, v in optional.items() if v is not None})
        return {"email": email}
    if isinstance(notification, WebhookNotification):
        hook = {"urls": notification.urls, "format": notification.format, "httpMethod": notification.http_method}
        return {k: v for k, v in hook.items() if v is not None}
    return {"plugin": {"type": notification.type, "configuration": dict(notification.configuration)}}
