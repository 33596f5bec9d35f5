"""Runtime settings: one table of (name, default, kind, help), read from the home and validated at start-up.

Sources, later wins: the defaults below; ``conf/xl-release.conf`` (HOCON, XL Release's own file:
``xl.durations.customScriptTaskScheduleInterval``); the ``[settings]`` table of ``xlr.toml``; the environment
variable of a setting (:attr:`Setting.env`: ``XLR_HTTP``, ``XLR_STORE``); explicit overrides (tests, benchmarks,
CLI flags). :func:`load` applies them all, so the CLI, an in-process :class:`~xlr_runtime.runtime.Runtime` and the
plugin-author harness read the same values. Unknown keys and wrong types are a :class:`ConfigError` naming the
file and the key (or the variable). Intervals below the minimum are rejected; the minimum itself can only be
lowered explicitly.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from xlr_runtime.errors import ConfigError, EnvironmentConfigError
from xlr_runtime.home import Home
from xlr_runtime.retention import Retention, parse_retention
from xlr_runtime.storeurl import StoreURL, parse_store_url
from xlr_runtime.tomlkeys import key_line, key_lines

#: The smallest cap of a status line or a property value (room for the truncation marker and some text).
MIN_VALUE_BYTES = 256

#: The HOCON key XL Release uses for the default polling interval.
HOCON_INTERVAL_KEY = "xl.durations.customScriptTaskScheduleInterval"


@dataclass(frozen=True)
class Setting:
    """One setting: its dotted name, default, Python type, the help shown in ``docs/settings.md``, the values it
    may take (``choices``, empty: any) and the environment variable that sets it (``env``), if any."""

    name: str
    default: Any
    kind: type
    help: str
    choices: tuple[str, ...] = ()
    env: str | None = None


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "schedule.default_interval",
        5.0,
        float,
        "Seconds between a script's task.schedule() and the next script when the script gives no interval.",
    ),
    Setting(
        "schedule.min_interval",
        1.0,
        float,
        "Smallest polling interval. Scripts asking for less are raised to it (with a warning in the task "
        "log); configured intervals below it are a start-up error. Lower it only for tests and benchmarks.",
    ),
    Setting(
        "workers.size", 8, int, "Number of long-lived worker processes running scripts (scripts are mostly I/O-bound)."
    ),
    Setting(
        "workers.max_memory_mb",
        1024,
        int,
        "A worker whose memory (resident set, after garbage collection) is above this many MB after a script run "
        "is replaced before its next run; 0: no limit.",
    ),
    Setting(
        "scripts.timeout",
        3600.0,
        float,
        "Seconds one script run may take before its worker is killed and the run fails.",
    ),
    Setting(
        "scripts.translate",
        "auto",
        str,
        "Python 2 translation of plugin scripts: auto (translate what does not compile as Python 3), on, off.",
        ("auto", "on", "off"),
    ),
    Setting(
        "scripts.max_log_bytes",
        10 * 1024 * 1024,
        int,
        "Task log bytes kept per script run; further output is dropped with a note in the log.",
    ),
    Setting(
        "scripts.max_status_line_bytes",
        16 * 1024,
        int,
        "Bytes of a status line kept (task.setStatusLine); a longer one is cut, marked, and noted in the task log.",
    ),
    Setting(
        "scripts.max_property_bytes",
        1024 * 1024,
        int,
        "Bytes of one output or script property value kept (its UTF-8 text, or its JSON for lists and maps); a "
        "larger one is cut, marked, and noted in the task log.",
    ),
    Setting(
        "store.synchronous",
        "NORMAL",
        str,
        "SQLite synchronous mode. NORMAL survives a process crash; FULL also survives power loss.",
        ("NORMAL", "FULL"),
    ),
    Setting(
        "store.url",
        "",
        str,
        "Where the store lives: empty (the home's xlr.db), sqlite:///PATH (relative to the home), or "
        "postgresql://USER@HOST:PORT/DATABASE (docs/store.md); XLR_STORE, then --store, override it.",
        env="XLR_STORE",
    ),
    Setting(
        "cluster.lease_seconds",
        60.0,
        float,
        "Seconds a claimed script run stays its runtime's without renewal (renewed every quarter of it, 15 s at "
        "most); a runtime whose lease ran out (host lost, stalled) has its runs taken over by another "
        "(docs/cluster.md).",
    ),
    Setting(
        "serve.grace_period",
        30.0,
        float,
        "Seconds a stopping runtime waits for running scripts before re-queueing them for the next start.",
    ),
    Setting(
        "http.listen",
        "127.0.0.1:5516",
        str,
        "Where xlr serve serves its HTTP API (docs/http.md): HOST:PORT ([::1]:PORT for IPv6; port 0 picks a free "
        "one), or off; XLR_HTTP, then xlr serve --http, override it.",
        env="XLR_HTTP",
    ),
    Setting(
        "http.open_reads",
        "auto",
        str,
        "Whether the HTTP API answers reads (GET) without a token: on, off, or auto (on only while it listens on "
        "a loopback address: 127.0.0.1, ::1, localhost). Writes always need a token (xlr token create).",
        ("auto", "on", "off"),
    ),
    Setting(
        "plugins.path",
        [],
        list,
        "Plugin folders, .jar or .zip files loaded besides the home's plugins/ and ext/ (relative to the home); "
        "--plugins and XLR_PLUGIN_PATH add to them.",
    ),
    Setting(
        "history.keep",
        "",
        str,
        "Ended tasks and Rundeck executions kept: an age (30d), a count (1000) or both (30d,1000); xlr serve "
        "prunes the rest hourly, xlr prune on demand. Empty: keep everything.",
    ),
    Setting(
        "smtp.host",
        "",
        str,
        "SMTP server for e-mail notifications of Rundeck jobs; empty: e-mail notifications fail (logged).",
    ),
    Setting("smtp.port", 25, int, "SMTP server port."),
    Setting("smtp.from", "xlr@localhost", str, "Sender address of notification e-mails."),
    Setting("smtp.username", "", str, "SMTP login user; empty: no login."),
    Setting(
        "smtp.password_env",
        "",
        str,
        "Name of the environment variable holding the SMTP password (never the password itself).",
    ),
    Setting(
        "smtp.security",
        "none",
        str,
        "SMTP transport security: none, starttls, or ssl (SMTPS).",
        ("none", "starttls", "ssl"),
    ),
    Setting("smtp.timeout", 15.0, float, "Seconds an SMTP connection or command may take."),
    Setting("notifications.webhook_timeout", 15.0, float, "Seconds a webhook notification request may take."),
    Setting(
        "notifications.webhook_secret_env",
        "",
        str,
        "Name of the environment variable holding the webhook signing key; when set, webhooks carry "
        "X-RunDeck-Notification-SHA256-Digest.",
    ),
    Setting(
        "notifications.link_url",
        "",
        str,
        "Base URL of the links in notification e-mails and payload permalinks (Rundeck's grails.serverURL); "
        "empty: no links.",
    ),
    Setting(
        "notifications.mail_subject",
        "",
        str,
        "Subject template of notification e-mails without a subject of their own (Rundeck's "
        "mail.template.subject); empty: Rundeck's default.",
    ),
    Setting(
        "notifications.mail_body",
        "",
        str,
        "HTML body template of notification e-mails (Rundeck's mail.template.body); empty: the built-in page.",
    ),
    Setting(
        "notifications.mail_template_file",
        "",
        str,
        "File holding the HTML (or Markdown, .md) body template of notification e-mails (Rundeck's "
        "mail.template.file); relative to the home; wins over notifications.mail_body.",
    ),
    Setting(
        "notifications.mail_log_format",
        "plain",
        str,
        "Execution log lines in notification e-mails: plain (the text) or formatted (time, user@node, step, "
        "level), as Rundeck's mail.template.log.formatted.",
        ("plain", "formatted"),
    ),
    Setting(
        "notifications.mail_log_extension",
        "log",
        str,
        "File extension of the attached execution log (Rundeck's mail.template.log.extension).",
    ),
    Setting(
        "notifications.mail_log_content_type",
        "text/plain",
        str,
        "Content type of the attached execution log (Rundeck's mail.template.log.contentType).",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}

#: The settings that an environment variable sets, by variable.
ENVIRONMENT_VARIABLES = {s.env: s for s in SETTINGS if s.env}


@dataclass(frozen=True)
class ConfigDocument:
    """A home's ``xlr.toml`` read and parsed once: settings, CIs and per-plugin translate modes all come from the
    same document (a missing file is an empty one). ``tables`` is the parsed TOML, ``text`` the file's text."""

    path: Path
    text: str
    tables: Mapping[str, Any]

    @classmethod
    def read(cls, path: Path) -> ConfigDocument:
        """Read and parse ``path`` (not a file: an empty document); invalid TOML is a ``path:line``
        :class:`ConfigError`."""
        if not path.is_file():
            return cls(path, "", {})
        text = path.read_bytes().decode()  # as tomllib.load does: no newline translation
        try:
            tables = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
            raise ConfigError(f"invalid TOML: {str(exc).split(' (at')[0]}", path=path, line=line) from None
        return cls(path, text, tables)

    @cached_property
    def key_lines(self) -> dict[tuple[str, ...], int]:
        """The line of every table header and key (see :mod:`xlr_runtime.tomlkeys`), read when first asked."""
        return key_lines(self.text)

    def line_of(self, *path: str) -> int | None:
        """The line of the key ``path`` (``"ci", "jenkins", "url"``), else of the table or array holding it."""
        return key_line(self.key_lines, path)


@dataclass(frozen=True)
class Origin:
    """Where a setting's value came from: ``source`` is ``default``, ``xlr.toml``, ``conf/xl-release.conf``,
    ``environment`` or ``override``; ``path`` and ``key`` find its line only when asked (the TOML key path, or the
    HOCON key); the key of an environment value is the variable's name."""

    source: str
    path: Path | None = None
    key: tuple[str, ...] = ()

    @property
    def line(self) -> int | None:
        """The line of the value in its file, if it came from one."""
        if self.path is None or not self.path.is_file():
            return None
        if self.source == TOML_SOURCE:
            return key_line(key_lines(self.path.read_bytes().decode(errors="replace")), self.key)
        return _line_of(self.path, self.key[-1]) if self.key else None

    def describe(self) -> str:
        """``xlr.toml:12``, ``conf/xl-release.conf:3``, ``environment variable XLR_HTTP``, ``default`` or
        ``override``."""
        if self.source == ENVIRONMENT_SOURCE:
            return f"environment variable {self.key[0]}"
        line = self.line
        return f"{self.source}:{line}" if line else self.source

    def error(self, message: str, *, hint: str | None = None) -> ConfigError:
        """A :class:`ConfigError` about this value, at its file and line (``settings`` when not from a file), or an
        :class:`EnvironmentConfigError` naming its variable."""
        if self.source == ENVIRONMENT_SOURCE:
            return EnvironmentConfigError(message, variable=self.key[0], hint=hint)
        return ConfigError(message, path=self.path or "settings", line=self.line, hint=hint)


TOML_SOURCE = "xlr.toml"
HOCON_SOURCE = "conf/xl-release.conf"
ENVIRONMENT_SOURCE = "environment"
DEFAULT = Origin("default")
OVERRIDE = Origin("override")


@dataclass(frozen=True)
class Settings:
    """Validated settings; read a value with ``settings["schedule.default_interval"]``.

    ``source`` is the ``xlr.toml`` they were read from (``None`` for defaults), handed on so the CIs and the
    per-plugin translate modes of the same start-up do not read the file again (see :meth:`document_of`).
    ``origins`` says where each value that is not a default came from (see :meth:`origin`).
    """

    values: Mapping[str, Any]
    source: ConfigDocument | None = field(default=None, compare=False, repr=False)
    origins: Mapping[str, Origin] = field(default_factory=dict, compare=False, repr=False)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def origin(self, name: str) -> Origin:
        """Where the value of ``name`` came from."""
        return self.origins.get(name, DEFAULT)

    @property
    def store_url(self) -> StoreURL:
        """``store.url`` parsed (validated at load)."""
        return parse_store_url(self["store.url"])

    @property
    def retention(self) -> Retention:
        """``history.keep`` parsed (validated at load)."""
        return parse_retention(self["history.keep"])

    def plugin_paths(self, home: Path) -> list[Path]:
        """``plugins.path`` with each relative path resolved against ``home``."""
        return [home / Path(path).expanduser() for path in self["plugins.path"]]

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with some values replaced; keys use ``_`` for ``.`` (``schedule_min_interval=0``)."""
        merged = dict(self.values)
        origins = dict(self.origins)
        for key, value in overrides.items():
            name = _setting(key.replace("_", ".", 1), OVERRIDE).name
            merged[name] = value
            origins[name] = OVERRIDE
        return _validated(merged, origins, allow_low_minimum=True, source=self.source)

    def document_of(self, config_file: Path) -> ConfigDocument:
        """The parsed ``config_file``: the document these settings were read from when it is that file, else
        read now."""
        if self.source is not None and self.source.path == config_file:
            return self.source
        return ConfigDocument.read(config_file)


def defaults() -> Settings:
    """The settings with every default value."""
    return _validated({s.name: s.default for s in SETTINGS}, {}, allow_low_minimum=False)


def load(
    home: Path | None, overrides: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read ``conf/xl-release.conf`` and ``xlr.toml`` from ``home``, then the settings' environment variables from
    ``environ`` (default ``os.environ``; an empty variable counts as unset), apply ``overrides``, and validate.
    ``home`` ``None`` reads no file (the defaults, the environment and the overrides).

    In the ``[settings]`` table of ``xlr.toml`` a setting is a quoted dotted key (``"workers.size" = 4``), a
    dotted key (``workers.size = 4``), a key of a sub-table (``[settings.workers]`` ``size = 4``) or of an inline
    table. A value read from a file that fails validation is reported at that file's line, one from the
    environment as an :class:`EnvironmentConfigError` naming the variable. Only an override of
    ``schedule.min_interval`` itself may lower the minimum below 1 second.
    """
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    origins: dict[str, Origin] = {}
    document = _read_home(home, values, origins) if home is not None else None
    for variable, setting in ENVIRONMENT_VARIABLES.items():
        text = (os.environ if environ is None else environ).get(variable)
        if text:
            origins[setting.name] = Origin(ENVIRONMENT_SOURCE, key=(variable,))
            values[setting.name] = _typed(setting, text, origins[setting.name])
    for name, value in (overrides or {}).items():
        canonical = _setting(name, OVERRIDE).name
        values[canonical] = value
        origins[canonical] = OVERRIDE
    lowered = "schedule.min_interval" in (overrides or {})
    return _validated(values, origins, allow_low_minimum=lowered, source=document)


def _read_home(home: Path, values: dict[str, Any], origins: dict[str, Origin]) -> ConfigDocument:
    """Set ``values`` (and their ``origins``) from the home's ``conf/xl-release.conf``, then its ``xlr.toml``;
    return the parsed ``xlr.toml``."""
    hocon_path = Home(home).hocon_file
    if hocon_path.is_file():
        interval = _read_hocon_interval(hocon_path)
        if interval is not None:
            values["schedule.default_interval"] = interval
            origins["schedule.default_interval"] = Origin(
                HOCON_SOURCE, hocon_path, (HOCON_INTERVAL_KEY.rpartition(".")[2],)
            )
    document = ConfigDocument.read(Home(home).config_file)
    table = document.tables.get("settings", {})
    if not isinstance(table, dict):
        raise Origin(TOML_SOURCE, document.path, ("settings",)).error("'settings' must be a table ([settings])")
    for name, value, key in _flattened(table, ()):
        origin = Origin(TOML_SOURCE, document.path, ("settings", *key))
        setting = _setting(name, origin)
        values[setting.name] = _typed(setting, value, origin)
        origins[setting.name] = origin
    return document


def _flattened(table: Mapping[str, Any], prefix: tuple[str, ...]) -> list[tuple[str, Any, tuple[str, ...]]]:
    """``(dotted name, value, TOML key path)`` of each value of the ``[settings]`` table: a nested table whose
    dotted name is not a setting holds settings (``workers.size = 4`` reads as ``{"workers": {"size": 4}}``)."""
    found: list[tuple[str, Any, tuple[str, ...]]] = []
    for key, value in table.items():
        path = (*prefix, key)
        name = ".".join(path)
        if isinstance(value, dict) and name not in _BY_NAME:
            found += _flattened(value, path)
        else:
            found.append((name, value, path))
    return found


#: Host names that only this machine can reach (reads of the HTTP API are open there by default).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def parse_listen(text: str) -> tuple[str, int] | None:
    """``(host, port)`` of an ``http.listen`` value (``127.0.0.1:5516``, ``[::1]:8080``, ``0.0.0.0:0``), or
    ``None`` for ``off``; :class:`ValueError` naming what is wrong otherwise."""
    value = text.strip()
    if value.lower() == "off":
        return None
    host, colon, port_text = value.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not colon or not host or not port_text.isdigit():
        raise ValueError(f"{text!r} is not HOST:PORT or off (e.g. 127.0.0.1:5516, [::1]:5516)")
    port = int(port_text)
    if port > 65535:
        raise ValueError(f"port {port} of {text!r} is above 65535")
    return host, port


def parse_duration(value: Any, *, where: str = "duration") -> float:
    """Seconds in a HOCON duration: ``10 seconds``, ``500ms``, ``2m``, a timedelta, or a bare number of ms."""
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if hasattr(value, "normalized") and hasattr(value, "seconds"):  # dateutil relativedelta from pyhocon
        rd = value.normalized()
        return rd.days * 86400.0 + rd.hours * 3600.0 + rd.minutes * 60.0 + rd.seconds + rd.microseconds / 1e6
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) / 1000.0  # HOCON: a duration without unit is in milliseconds
    match = _DURATION.fullmatch(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a duration (e.g. '10 seconds')")
    number, unit = float(match["number"]), match["unit"] or "ms"
    return number * _UNITS[unit]


_DURATION = re.compile(r"(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[a-zA-Z]+)?")
_UNITS: dict[str, float] = {}
for _factor, _names in (
    (1e-9, "ns nano nanos nanosecond nanoseconds"),
    (1e-6, "us micro micros microsecond microseconds"),
    (1e-3, "ms milli millis millisecond milliseconds"),
    (1.0, "s second seconds"),
    (60.0, "m minute minutes"),
    (3600.0, "h hour hours"),
    (86400.0, "d day days"),
):
    _UNITS.update(dict.fromkeys(_names.split(), _factor))


def _read_hocon_interval(path: Path) -> float | None:
    from pyhocon import ConfigFactory
    from pyhocon.exceptions import ConfigException
    from pyparsing import ParseBaseException

    try:
        config = ConfigFactory.parse_file(str(path), resolve=True)
    except ParseBaseException as exc:
        raise ConfigError(f"invalid HOCON: {exc.msg}", path=path, line=exc.lineno) from None
    except ConfigException as exc:
        raise ConfigError(f"invalid HOCON: {exc}", path=path) from None
    value = config.get(HOCON_INTERVAL_KEY, None)
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ConfigError(f"{HOCON_INTERVAL_KEY}: {exc}", path=path, line=_line_of(path, HOCON_INTERVAL_KEY)) from None


def _setting(name: str, origin: Origin) -> Setting:
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(sorted(_BY_NAME))
        raise origin.error(f"unknown setting {name!r}", hint=f"Known settings: {known}") from None


#: How a kind is named in a wrong-type error.
_KIND_NAMES = {list: "a list of strings"}


def _typed(setting: Setting, value: Any, origin: Origin) -> Any:
    try:
        if setting.kind is float and isinstance(value, str):
            return parse_duration(value) if not value.strip().replace(".", "", 1).isdigit() else float(value)
        if setting.kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if setting.kind is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if setting.kind is str and isinstance(value, str):
            return value
        if setting.kind is list and isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return tuple(value)
    except ValueError as exc:
        raise origin.error(f"setting {setting.name!r}: {exc}") from None
    expected = _KIND_NAMES.get(setting.kind, setting.kind.__name__)
    raise origin.error(f"setting {setting.name!r} must be {expected}, got {value!r}")


def _validated(
    values: dict[str, Any],
    origins: Mapping[str, Origin],
    *,
    allow_low_minimum: bool,
    source: ConfigDocument | None = None,
) -> Settings:
    """Type-check ``values``; an error names the file and line a value came from (``origins``, whose lines are
    looked up only for an error), else ``settings``. ``source`` and ``origins`` are kept in the result."""

    def error(name: str, message: str, *, hint: str | None = None) -> ConfigError:
        return origins.get(name, DEFAULT).error(message, hint=hint)

    for name, value in values.items():
        setting = _BY_NAME[name]
        values[name] = _typed(setting, value, origins.get(name, DEFAULT))
        if setting.choices and values[name] not in setting.choices:
            raise error(name, f"setting {name!r} must be one of {', '.join(setting.choices)}, got {value!r}")
    minimum, interval = values["schedule.min_interval"], values["schedule.default_interval"]
    if minimum < 1.0 and not allow_low_minimum:
        raise error(
            "schedule.min_interval",
            f"schedule.min_interval {minimum:g}s is below 1 second",
            hint="The minimum can only be lowered by tests and benchmarks.",
        )
    if interval < minimum:
        raise error(
            "schedule.default_interval",
            f"default polling interval {interval:g}s is below the minimum of {minimum:g}s",
            hint="XL Release does not poll more often than once a second; use 1 second or more.",
        )
    if values["workers.size"] < 1:
        raise error("workers.size", "setting 'workers.size' must be at least 1")
    if values["workers.max_memory_mb"] < 0:
        raise error("workers.max_memory_mb", "setting 'workers.max_memory_mb' must be 0 (no limit) or more")
    if values["cluster.lease_seconds"] < 1:
        raise error("cluster.lease_seconds", "setting 'cluster.lease_seconds' must be at least 1")
    for name in ("scripts.max_status_line_bytes", "scripts.max_property_bytes"):
        if values[name] < MIN_VALUE_BYTES:
            raise error(name, f"setting {name!r} must be at least {MIN_VALUE_BYTES}")
    try:
        parse_listen(values["http.listen"])
    except ValueError as exc:
        raise error("http.listen", f"setting 'http.listen': {exc}") from None
    try:
        parse_store_url(values["store.url"])
    except ValueError as exc:
        raise error("store.url", f"setting 'store.url': {exc}") from None
    try:
        parse_retention(values["history.keep"])
    except ValueError as exc:
        raise error("history.keep", f"setting 'history.keep': {exc}") from None
    return Settings(values, source, dict(origins))


def _line_of(path: Path | None, needle: str) -> int | None:
    if path is None or not path.is_file():
        return None
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if needle in line:
            return number
    return None


def _line_from_message(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None
