"""Writing the job model as Rundeck's canonical job map (``ScheduledExecution.toMap``, YAML export).

Only what is set is written, under Rundeck's key names; :mod:`xlr_runtime.rundeck.jobs.yaml_codec` sorts the keys.
"""

from __future__ import annotations

from typing import Any

from xlr_runtime.rundeck.jobs.model import (
    DataSet,
    DataValue,
    EmailNotification,
    ExecStep,
    Job,
    JobRefStep,
    Notification,
    Option,
    PluginStep,
    RawElement,
    Schedule,
    ScriptStep,
    Step,
    Trigger,
    WebhookNotification,
    Workflow,
    fits_legacy_notification_form,
)

#: Key of an element's text when it also has attributes (Rundeck's ``XmlParserUtil`` uses the same).
TEXT_KEY = "<text>"


def from_raw(raw: RawElement) -> Any:
    """A raw element as YAML data: attributes and children as keys, repeated children as lists, text as str."""
    if not raw.children and not raw.attributes:
        return {} if raw.text is None else raw.text
    result: dict[str, Any] = dict(raw.attributes)
    if raw.text is not None and not raw.children:
        result[TEXT_KEY] = raw.text
    for child in raw.children:
        _add_repeatable(result, child.tag, from_raw(child))
    return result


def _add_repeatable(result: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` to ``value``; a key seen before becomes the list of its values, in order."""
    if key in result:
        existing = result[key]
        result[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
    else:
        result[key] = value


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
        _add_repeatable(result, raw.tag, from_raw(raw))
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
        filters["dispatch"] = step.dispatch.rundeck_fields()
    if filters:
        data["nodefilters"] = filters
    return data


def _notifications_map(notifications: dict[Trigger, tuple[Notification, ...]]) -> dict[str, Any]:
    """The map form per trigger when no trigger repeats a kind (as the XML legacy form), else a list."""
    legacy = fits_legacy_notification_form(notifications)
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
