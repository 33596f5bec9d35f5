"""Validation of job definitions, shared by the XML and YAML codecs.

Checks raise ``ValueError`` with a one-line message; :class:`JobContext` turns it into a
:class:`~xlr_runtime.errors.JobDefinitionError` ``path:line: job "name": message`` at the element it came from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import regex

from xlr_runtime.errors import JobDefinitionError
from xlr_runtime.rundeck.jobs.model import Job, Option, Schedule
from xlr_runtime.rundeck.run.options import RegexTimeout, compile_regex, full_match
from xlr_runtime.rundeck.schedules.quartz import QuartzError, parse

T = TypeVar("T")

#: Deprecated include/exclude keys that Rundeck turns into filter-string keys, in its order (``filterKeys``).
FILTER_KEYS = ("hostname", "name", "tags", "os-name", "os-family", "os-arch", "os-version")
_QUARTZ_RANGES = (
    ("seconds", 0, 59),
    ("minutes", 0, 59),
    ("hours", 0, 23),
    ("day-of-month", 1, 31),
    ("month", 1, 12),
    ("day-of-week", 1, 7),
    ("year", 1970, 2099),
)
_ASCII_DIGITS = re.compile(r"[0-9]+")
_NUMBER = re.compile(r"(?<![#/\d])(\d+)(?!\d)")


@dataclass
class JobContext:
    """Where a job is being read: its file, line, 1-based index and (once known) name."""

    path: str | Path
    line: int | None
    index: int
    name: str | None = None
    #: Also require a schedule to fire again (true on import; false when re-reading a stored job).
    require_future: bool = True

    def error(self, message: str, *, line: int | None = None, named: bool = True) -> JobDefinitionError:
        """A located error for this job (at ``line``, else at the job)."""
        return JobDefinitionError(message, path=self.path, line=line or self.line, job=self.name if named else None)

    def build(self, make: Callable[[], T], *, line: int | None = None) -> T:
        """Call ``make`` and turn a model ``ValueError`` into a located :class:`JobDefinitionError`."""
        try:
            return make()
        except ValueError as exc:
            raise self.error(str(exc), line=line) from None


def whole_number(text: str) -> int | None:
    """``text`` as a whole number when it is ASCII digits (spaces around allowed), else ``None``: ``str.isdigit``
    and ``int`` also take ``²`` or ``٣``, which Rundeck's ``Integer.parseInt`` does not."""
    stripped = text.strip()
    return int(stripped) if _ASCII_DIGITS.fullmatch(stripped) else None


def validate_job(job: Job) -> None:
    """Job-level checks: retry (and its delay) and threadcount (schedule and options are checked where read)."""
    if job.retry is not None and "${" not in job.retry and whole_number(job.retry) is None:
        raise ValueError(f'retry "{job.retry}" must be a whole number or an ${{option.x}} reference')
    if job.retry_delay is not None and job.retry is None:
        # Rundeck's XML keeps the delay as an attribute of <retry>: without a count it would be lost on export
        raise ValueError(f'retry delay "{job.retry_delay}" needs a retry count')
    threadcount = job.dispatch.threadcount
    if "${" not in threadcount and (whole_number(threadcount) or 0) < 1:
        raise ValueError(f'threadcount "{threadcount}" must be a positive whole number')


def validate_option(option: Option) -> Option:
    """Check an option's regex, its default against values/regex, and the multivalued/secure rules."""
    label = f'option "{option.name}"'
    pattern = None
    if option.regex is not None:
        try:
            pattern = compile_regex(option.regex)
        except regex.error as exc:
            raise ValueError(f'{label}: invalid regex "{option.regex}": {exc}') from None
    if option.multivalued and not option.delimiter:
        raise ValueError(f"{label}: a multivalued option needs a delimiter")
    if option.multivalued and option.secure:
        raise ValueError(f"{label}: a secure option cannot be multivalued")
    if option.storage_path is not None and not re.match(r"/?keys/.", option.storage_path):
        raise ValueError(f'{label}: storagePath "{option.storage_path}" must start with keys/ (a key storage path)')
    if option.enforced and not option.values and not option.values_url:
        raise ValueError(f"{label}: enforcedvalues needs a values list or a valuesUrl")
    default = option.value
    if not default or "${" in default:
        return option

    def shown(item: str) -> str:
        return "(secure, not shown)" if option.secure else f'"{item}"'

    defaults = default.split(option.delimiter) if option.multivalued and option.delimiter else [default]
    if option.enforced and option.values:
        for item in defaults:
            if item not in option.values:
                allowed = ",".join(option.values)
                raise ValueError(f"{label}: default value {shown(item)} is not one of the allowed values ({allowed})")
    if pattern is not None:
        for item in defaults:
            try:
                matched = full_match(pattern, item)
            except RegexTimeout as exc:
                raise ValueError(
                    f'{label}: default value {shown(item)} {exc} the regex "{option.regex}" (simplify the regex)'
                ) from None
            if not matched:
                raise ValueError(f'{label}: default value {shown(item)} does not match the regex "{option.regex}"')
    return option


def validate_schedule(
    schedule: Schedule, *, crontab: str | None = None, now: datetime | None = None, require_future: bool = True
) -> None:
    """Check the Quartz expression: ``crontab`` as written when the file gave one, else the schedule's.

    Quartz rules: 6 or 7 fields, exactly one of day-of-month/day-of-week is ``?``, field ranges; and (unless
    ``require_future`` is false) a fire time after ``now``.
    """
    expression = " ".join(crontab.split(" ")[:7]) if crontab else schedule.crontab
    fields = expression.split(" ")
    if len(fields) == 6:
        fields.append("*")
    dom, dow = fields[3], fields[5]
    if (dom == "?") == (dow == "?"):
        raise ValueError(f'invalid schedule "{expression}": exactly one of day-of-month and day-of-week must be "?"')
    for index, (label, low, high) in enumerate(_QUARTZ_RANGES):
        if "?" in fields[index] and index not in (3, 5):
            raise ValueError(f'invalid schedule "{expression}": "?" is only allowed in day-of-month or day-of-week')
        for number in _NUMBER.findall(fields[index]):
            if not low <= int(number) <= high:
                raise ValueError(f'invalid schedule "{expression}": {label} value {number} is not in {low}-{high}')
    try:  # the evaluator the schedules run on (xlr_runtime.rundeck.schedules.quartz): L, LW, L-n, nW, nL, n#k
        cron = parse(" ".join(fields))
    except QuartzError:
        raise ValueError(f'invalid schedule "{expression}": not a valid Quartz cron expression') from None
    if not require_future:
        return
    start = now or datetime.now(UTC)
    if cron.next_after(start.timestamp(), ZoneInfo("UTC")) is None:
        raise ValueError(f'invalid schedule "{expression}": it will never fire again')


def deprecated_filter(parts: dict[str, dict[str, str]]) -> str:
    """Rundeck's ``asFilter``: deprecated include/exclude maps to a filter string (``!`` marks excludes)."""
    tokens: list[str] = []
    for section, prefix in (("include", ""), ("exclude", "!")):
        values = parts.get(section, {})
        for key in FILTER_KEYS:
            value = (values.get(key) or "").strip()
            if value:
                quoted = f'"{value}"' if re.search(r"\s", value) else value
                tokens.append(f"{prefix}{key}: {quoted}")
    return " ".join(tokens)
