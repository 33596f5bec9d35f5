"""The typed Rundeck job model shared by the XML and YAML codecs and the job store.

Every class is a frozen dataclass that validates what is cheap to check on construction. Values keep the raw
strings Rundeck keeps (``hour='00'``, ``timeout='1d 6h'``, ``threadcount='${option.n}'``) so an export gives back
what was loaded. Field names are Pythonic; the codecs map them to Rundeck's element, attribute and YAML names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeAlias

#: Log levels Rundeck accepts for ``<loglevel>``.
LOG_LEVELS = ("DEBUG", "VERBOSE", "INFO", "WARN", "ERROR")
#: Option names Rundeck accepts (``Option.validateName``): word characters, dot, plus, minus.
OPTION_NAME = re.compile(r"^[a-zA-Z_0-9.+\-]+$")


class Trigger(StrEnum):
    """When a notification fires; the values are Rundeck's element and YAML names."""

    ON_AVG_DURATION = "onavgduration"
    ON_FAILURE = "onfailure"
    ON_RETRYABLE_FAILURE = "onretryablefailure"
    ON_START = "onstart"
    ON_SUCCESS = "onsuccess"


class ScriptKind(StrEnum):
    """Where a script step's script comes from: inline, a server file, or a URL."""

    SCRIPT = "script"
    SCRIPTFILE = "scriptfile"
    SCRIPTURL = "scripturl"


class DataSet(tuple):
    """A generic-data ``<set>``: an unordered collection, kept in the order it was read."""

    __slots__ = ()


#: Rundeck's "generic data structure" (job plugin configuration): ``<map>``, ``<list>``, ``<set>``, ``<value>``.
DataValue: TypeAlias = "str | dict[str, DataValue] | list[DataValue] | DataSet"


@dataclass(frozen=True)
class RawElement:
    """An XML element the model does not know, kept verbatim for a round trip (``<schedules />``, …).

    ``position`` is its index among its parent's child elements in the file it came from (not compared); the
    canonical export places it by name like every other element, since Rundeck sorts all names.
    """

    tag: str
    attributes: tuple[tuple[str, str], ...] = ()
    text: str | None = None
    children: tuple[RawElement, ...] = ()
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Option:
    """One job option (``<context><options><option>`` / YAML ``options[]``)."""

    name: str
    value: str | None = None
    values: tuple[str, ...] | None = None
    values_list_delimiter: str | None = None
    values_url: str | None = None
    enforced: bool = False
    regex: str | None = None
    required: bool = False
    multivalued: bool = False
    delimiter: str | None = None
    multivalue_all_selected: bool = False
    secure: bool = False
    value_exposed: bool = False
    storage_path: str | None = None
    is_date: bool = False
    date_format: str | None = None
    hidden: bool = False
    sort_values: str | None = None
    label: str | None = None
    description: str | None = None
    type: str | None = None
    config: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if not OPTION_NAME.match(self.name):
            raise ValueError(f'invalid option name "{self.name}": use letters, digits, "_", ".", "+" or "-"')


@dataclass(frozen=True)
class Dispatch:
    """Node dispatch settings of a job (``<dispatch>``)."""

    threadcount: str = "1"
    keepgoing: bool = False
    exclude_precedence: bool = True
    rank_attribute: str | None = None
    rank_order: str = "ascending"
    success_on_empty_node_filter: bool = False

    def __post_init__(self) -> None:
        if self.rank_order not in ("ascending", "descending"):
            raise ValueError(f'rankOrder must be "ascending" or "descending", not "{self.rank_order}"')


@dataclass(frozen=True)
class JobRefDispatch:
    """Dispatch overrides of a job reference: only what was set is kept."""

    threadcount: str | None = None
    keepgoing: bool | None = None
    rank_attribute: str | None = None
    rank_order: str | None = None

    def rundeck_fields(self) -> dict[str, str | bool]:
        """The overrides that are set, under Rundeck's names, in the order of its job map."""
        fields = {
            "threadcount": self.threadcount,
            "keepgoing": self.keepgoing,
            "rankAttribute": self.rank_attribute,
            "rankOrder": self.rank_order,
        }
        return {key: value for key, value in fields.items() if value is not None}


@dataclass(frozen=True)
class Schedule:
    """A Quartz schedule kept as its seven raw fields (``sec min hour dom mon dow year``)."""

    seconds: str = "0"
    minute: str = "0"
    hour: str = "0"
    day_of_month: str = "?"
    month: str = "*"
    day_of_week: str = "*"
    year: str = "*"

    @classmethod
    def from_crontab(cls, crontab: str) -> Schedule:
        """Split a crontab string as Rundeck does: on single spaces, at most seven fields, six at least."""
        fields = crontab.split(" ")[:7]
        if len(fields) < 6:
            raise ValueError(f'crontab "{crontab}" must have 6 or 7 fields (sec min hour dom mon dow [year])')
        year = fields[6] if len(fields) > 6 else "*"
        return cls(fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], year)

    @property
    def crontab(self) -> str:
        """The Quartz expression Rundeck schedules (``generateCrontabExression``)."""
        dow = self.day_of_week.upper() if self.day_of_month == "?" else "?"
        return " ".join(
            (
                self.seconds or "0",
                self.minute,
                self.hour,
                self.day_of_month.upper(),
                self.month.upper(),
                dow,
                self.year or "*",
            )
        )


@dataclass(frozen=True)
class Step:
    """What every workflow step has: a description, an error handler and (on a handler) keepgoingOnSuccess.

    ``plugins`` holds step log filters (``<plugins><LogFilter …>``) as raw elements; ``extra`` keeps elements
    of the ``<command>`` the model does not know.
    """

    description: str | None = field(default=None, kw_only=True)
    errorhandler: Step | None = field(default=None, kw_only=True)
    keepgoing_on_success: bool | None = field(default=None, kw_only=True)
    plugins: RawElement | None = field(default=None, kw_only=True)
    extra: tuple[RawElement, ...] = field(default=(), kw_only=True)

    def __post_init__(self) -> None:
        if self.errorhandler is not None and self.errorhandler.errorhandler is not None:
            raise ValueError("an errorhandler cannot have its own errorhandler")


@dataclass(frozen=True)
class ExecStep(Step):
    """A shell command (``<exec>``)."""

    command: str


@dataclass(frozen=True)
class ScriptStep(Step):
    """An inline script, a script file on the server, or a script URL, with its args and interpreter."""

    kind: ScriptKind
    source: str
    args: str | None = None
    interpreter: str | None = None
    args_quoted: bool = False
    file_extension: str | None = None


@dataclass(frozen=True)
class JobRefStep(Step):
    """A reference to another job, by name (and group) or uuid."""

    name: str | None = None
    group: str | None = None
    uuid: str | None = None
    project: str | None = None
    args: str | None = None
    node_step: bool = False
    node_filter: str | None = None
    dispatch: JobRefDispatch | None = None
    import_options: bool = False
    fail_on_disable: bool = False
    child_nodes: bool = False
    ignore_notifications: bool = False
    use_name: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.name and not self.uuid:
            raise ValueError("a job reference needs a name or a uuid")


@dataclass(frozen=True)
class PluginStep(Step):
    """A node-step plugin (runs per node) or a workflow-step plugin (runs once), with its configuration."""

    type: str
    node_step: bool = False
    configuration: dict[str, str] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.type:
            raise ValueError("a plugin step needs a type")


@dataclass(frozen=True)
class Workflow:
    """The job's ``<sequence>``: steps, keepgoing, strategy and the strategy/log-filter plugin config."""

    steps: tuple[Step, ...]
    keepgoing: bool = False
    strategy: str = "node-first"
    plugin_config: RawElement | None = None


@dataclass(frozen=True)
class EmailNotification:
    """Mail the execution result (``<email recipients=…>``)."""

    recipients: str
    subject: str | None = None
    attach_log: bool | None = None
    attach_log_in_file: bool | None = None
    attach_log_inline: bool | None = None


@dataclass(frozen=True)
class WebhookNotification:
    """POST (or GET) the execution to URLs (``<webhook urls=… format=… httpMethod=…>``)."""

    urls: str
    format: str | None = None
    http_method: str | None = None


@dataclass(frozen=True)
class PluginNotification:
    """A notification plugin with its configuration."""

    type: str
    configuration: dict[str, str] = field(default_factory=dict)


Notification: TypeAlias = EmailNotification | WebhookNotification | PluginNotification


@dataclass(frozen=True)
class JobPlugin:
    """A job-scoped plugin (e.g. an ``ExecutionLifecycle`` provider) and its generic-data configuration."""

    type: str
    configuration: DataValue | None = None


@dataclass(frozen=True)
class Job:
    """One Rundeck job definition.

    ``uuid`` identifies the job across servers. ``id`` keeps a file's ``<id>`` only when it has no ``<uuid>``
    (old exports); with a uuid, Rundeck writes ``<id>`` as the same value. ``project`` is set by the store,
    never read from a file (Rundeck ignores ``<context><project>``).
    """

    name: str
    sequence: Workflow
    description: str = ""
    uuid: str | None = None
    id: str | None = None
    group: str | None = None
    project: str | None = None
    loglevel: str = "INFO"
    default_tab: str | None = None
    execution_enabled: bool = True
    schedule_enabled: bool = True
    node_filter_editable: bool = True
    multiple_executions: bool = False
    max_multiple_executions: str | None = None
    timeout: str | None = None
    retry: str | None = None
    retry_delay: str | None = None
    log_limit: str | None = None
    log_limit_action: str | None = None
    log_limit_status: str | None = None
    schedule: Schedule | None = None
    time_zone: str | None = None
    options: tuple[Option, ...] = ()
    node_filter: str | None = None
    filter_exclude: str | None = None
    nodes_selected_by_default: bool = True
    dispatch: Dispatch = field(default_factory=Dispatch)
    notifications: dict[Trigger, tuple[Notification, ...]] = field(default_factory=dict)
    notify_avg_duration_threshold: str | None = None
    plugins: dict[str, tuple[JobPlugin, ...]] | None = None
    orchestrator: RawElement | None = None
    extra: tuple[RawElement, ...] = ()

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("the job has no name")
        if self.group is not None and (not self.group or self.group != self.group.strip("/")):
            raise ValueError(f'group "{self.group}" must be non-empty and not start or end with "/"')
        if self.loglevel not in LOG_LEVELS:
            raise ValueError(f'loglevel "{self.loglevel}" is not one of {", ".join(LOG_LEVELS)}')
        if self.log_limit_action not in (None, "halt", "truncate"):
            raise ValueError(f'logging limitAction "{self.log_limit_action}" must be "halt" or "truncate"')
        object.__setattr__(self, "notifications", canonical_notifications(self.notifications))
        if self.plugins is not None:
            # Rundeck keeps job plugins as a map of service -> provider type -> config: order is by name.
            plugins = {s: tuple(sorted(p, key=lambda plugin: plugin.type)) for s, p in sorted(self.plugins.items())}
            object.__setattr__(self, "plugins", plugins)
        names = [option.name for option in self.options]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f'option "{duplicates[0]}" is defined more than once')

    @property
    def full_name(self) -> str:
        """``group/name``, or just the name without a group (Rundeck's ``generateFullName``)."""
        return f"{self.group}/{self.name}" if self.group else self.name

    @property
    def has_node_filter(self) -> bool:
        """True when the job dispatches to nodes (a non-empty filter); otherwise it runs on the server node."""
        return bool(self.node_filter)


def trim_group(group: str | None) -> str | None:
    """Trim slashes at both ends of a group path, as Rundeck does; an empty result means no group."""
    if group is None:
        return None
    trimmed = group.strip("/")
    return trimmed or None


def canonical_notifications(
    notifications: dict[Trigger, tuple[Notification, ...]],
) -> dict[Trigger, tuple[Notification, ...]]:
    """Triggers in name order; in each, emails, then plugins by type, then webhooks (the export order).

    Rundeck keeps a job's notifications unordered, so this order is what makes two loads of one export equal.
    """

    def rank(notification: Notification) -> tuple[int, str]:
        if isinstance(notification, EmailNotification):
            return (0, "")
        if isinstance(notification, PluginNotification):
            return (1, notification.type)
        return (2, "")

    return {
        trigger: tuple(sorted(notifications[trigger], key=rank))
        for trigger in sorted(notifications, key=lambda t: t.value)
    }


def fits_legacy_notification_form(notifications: dict[Trigger, tuple[Notification, ...]]) -> bool:
    """True when no trigger has two emails or two webhooks: the exports can then use the legacy one-per-kind form."""
    return not any(
        sum(isinstance(n, kind) for n in found) > 1
        for found in notifications.values()
        for kind in (EmailNotification, WebhookNotification)
    )
