"""Reading Rundeck's canonical job map (``ScheduledExecution.fromMap``) into the job model (YAML import).

Values are read leniently like Rundeck's (``'true'`` or ``true``, ``3`` or ``'3'``); the writer is
:mod:`xlr_runtime.rundeck.jobs.yaml_write`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from xlr_runtime.rundeck.jobs.model import (
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
from xlr_runtime.rundeck.jobs.validation import (
    JobContext,
    deprecated_filter,
    validate_job,
    validate_option,
    validate_schedule,
    whole_number,
)
from xlr_runtime.rundeck.jobs.xmlread import parse_bool
from xlr_runtime.rundeck.jobs.yaml_write import TEXT_KEY

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


T = TypeVar("T")


class LineMap(dict):  # type: ignore[type-arg]
    """A YAML mapping that remembers the 1-based line it starts on (set by the YAML loader)."""

    line: int | None = None


@contextmanager
def _at(value: Any) -> Iterator[None]:
    """Locate a ``ValueError`` raised while reading ``value`` at its line (the innermost located map wins)."""
    try:
        yield
    except ValueError as exc:
        if getattr(exc, "line", None) is None:
            exc.line = getattr(value, "line", None)  # type: ignore[attr-defined]
        raise


def _each(items: Any, read: Callable[[Any], T]) -> tuple[T, ...]:
    """``read`` every item of a list, an error located at the item's line."""
    results = []
    for item in items:
        with _at(item):
            results.append(read(item))
    return tuple(results)


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
    try:
        return _job(data, name, ctx)
    except ValueError as exc:
        raise ctx.error(str(exc), line=getattr(exc, "line", None)) from None


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
    with _at(data.get("schedule")):
        schedule = _schedule(_map(data.get("schedule"), "schedule")) if data.get("schedule") else None
        if schedule is not None:
            validate_schedule(
                schedule,
                crontab=_str(_map(data.get("schedule"), "schedule").get("crontab")) or None,
                require_future=ctx.require_future,
            )
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
        return _each(data, lambda item: validate_option(_option(_map(item, "an option"), None)))
    items = [(name, _map(value, f'option "{name}"')) for name, value in _map(data, "options").items()]
    options = []
    for name, value in items:
        with _at(value):
            options.append(validate_option(_option(value, str(name))))
    indexes = {str(name): whole_number(str(value.get("sortIndex", ""))) for name, value in items}
    with_index = sorted((o for o in options if indexes[o.name] is not None), key=lambda o: indexes[o.name] or 0)
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
        steps=_each(commands, lambda command: _step(_map(command, "a command"), handler=False)),
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
    with _at(data):
        return _triggers(data)


def _triggers(data: dict[str, Any]) -> dict[Trigger, tuple[Notification, ...]]:
    result: dict[Trigger, tuple[Notification, ...]] = {}
    for key, value in data.items():
        if not str(key).startswith("on"):
            continue
        try:
            trigger = Trigger(key)
        except ValueError:
            raise ValueError(f"unknown notification trigger {key}") from None
        entries = value if isinstance(value, list) else [value]
        found: list[Notification] = []
        for entry in entries:
            with _at(entry):
                found.extend(_trigger_entry(_map(entry, key), key))
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
            raw for k, v in value.items() if not is_attribute(k, v) and k != TEXT_KEY for raw in to_raws(str(k), v)
        )
        return [RawElement(tag, attributes, _str(value.get(TEXT_KEY)), children, position)]
    return [RawElement(tag, (), _str(value), (), position)]


def to_raw(tag: str, value: Any) -> RawElement:
    """A YAML map (pluginConfig, orchestrator, step plugins) as one raw element."""
    return to_raws(tag, value)[0]
