"""Job option values, checked before an execution starts (as Rundeck's ``ExecutionService`` does).

:func:`parse_arg_string` reads ``-name value`` arguments (the CLI's ``-- -opt value …`` and job-reference
``<arg line>``); :func:`resolve_options` applies defaults and checks each value: required, enforced allowed
values (from ``values`` or ``valuesUrl``), full-match regex (each item of a multivalued option), and date
format. Any problem raises :class:`~xlr_runtime.errors.OptionValueError` naming the option and the reason; a
secure option's value never appears in a message.

A secure option with a ``storagePath`` and no value given reads its default from key storage, as Rundeck's
``loadSecureOptionStorageDefaults`` does: ``${option.NAME}`` and ``${job.NAME}`` in the path are expanded
first, and the entry must be a password. When it cannot be read, a required option stops the start (naming
the option and the path); another one goes on without it (its ``value`` default, if any) and the execution's
log gets a warning. A path that refers to ``${node.*}`` is not read here: it is *deferred*
(:attr:`ResolvedOptions.deferred`) and read for each node as a node step runs there
(:mod:`~xlr_runtime.rundeck.run.node_options`), with :func:`read_stored_default`'s rules.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

import regex
import requests

from xlr_runtime.errors import KeyNotFoundError, KeyStoreError, OptionValueError
from xlr_runtime.rundeck.jobs.quoting import tokenize
from xlr_runtime.rundeck.run.context import DataContext, expand, references
from xlr_runtime.storeurl import redact

#: What a secure value is replaced with wherever values are shown or stored.
MASK = "*****"
#: Seconds one option value may take to match its regex (at load and before a run): a regex that backtracks
#: catastrophically (``(a|a)+$``) fails with a clear error instead of hanging the process.
REGEX_TIMEOUT = 1.0


class RegexTimeout(Exception):
    """A value took longer than :data:`REGEX_TIMEOUT` to match an option's regex."""


def compile_regex(pattern: str) -> regex.Pattern[str]:
    """An option regex compiled by the ``regex`` module, closer to Java's syntax than ``re`` (possessive and
    atomic groups, ``\\p{Lu}``); raises ``regex.error`` for one that does not compile."""
    return regex.compile(pattern)


def full_match(pattern: str | regex.Pattern[str], text: str) -> bool:
    """True when ``text`` matches ``pattern`` whole (Java's ``String.matches``), within :data:`REGEX_TIMEOUT`;
    raises :class:`RegexTimeout` when it takes longer."""
    compiled = compile_regex(pattern) if isinstance(pattern, str) else pattern
    try:
        return compiled.fullmatch(text, timeout=REGEX_TIMEOUT) is not None
    except TimeoutError:
        raise RegexTimeout(f"took longer than {REGEX_TIMEOUT:g}s to match") from None


#: Seconds to wait for a ``valuesUrl``.
VALUES_URL_TIMEOUT = 10.0


class OptionLike(Protocol):
    """The fields of :class:`xlr_runtime.rundeck.jobs.model.Option` that validation reads."""

    name: str
    value: str | None
    values: tuple[str, ...] | None
    values_url: str | None
    enforced: bool
    regex: str | None
    required: bool
    multivalued: bool
    delimiter: str | None
    secure: bool
    value_exposed: bool
    storage_path: str | None
    is_date: bool
    date_format: str | None


ValuesFetcher = Callable[[str], list[str]]
#: Reads the password stored at a key storage path (:meth:`xlr_runtime.rundeck.keystore.KeyStore.read_password`),
#: raising :class:`~xlr_runtime.errors.KeyStoreError` when it cannot.
PasswordReader = Callable[[str], str]


@dataclass(frozen=True)
class ResolvedOptions:
    """Checked option values: ``values`` holds every option with a value (multivalued ones joined with
    their delimiter); ``secure`` names the secure ones and ``exposed`` the secure ones with valueExposed;
    ``warnings`` are lines for the execution's log (a ``storagePath`` default that could not be read);
    ``deferred`` maps each secure option whose default is read per node (no value given, a ``storagePath``
    that refers to ``${node.*}``) to that path, as written (see :func:`deferred_paths`)."""

    values: Mapping[str, str] = field(default_factory=dict)
    delimiters: Mapping[str, str] = field(default_factory=dict)
    secure: frozenset[str] = frozenset()
    exposed: frozenset[str] = frozenset()
    warnings: tuple[str, ...] = ()
    deferred: Mapping[str, str] = field(default_factory=dict)

    def context(self) -> dict[str, dict[str, str]]:
        """The ``option.*`` and ``secureOption.*`` contexts: normal options, plus secure options whose value
        is exposed; ``option.X.delimiter`` for multivalued ones. Unexposed secure values are left out."""
        visible = {k: v for k, v in self.values.items() if k not in self.secure or k in self.exposed}
        option = dict(visible)
        option.update({f"{name}.delimiter": delim for name, delim in self.delimiters.items() if name in visible})
        secure = {k: v for k, v in self.values.items() if k in self.exposed}
        return {"option": option, "secureOption": secure} if secure else {"option": option}

    def masked(self) -> dict[str, str]:
        """Every value, with secure ones replaced by :data:`MASK` (for logs, the store and exports)."""
        return {k: MASK if k in self.secure else v for k, v in self.values.items()}

    def secret_values(self) -> list[str]:
        """The non-empty secure values, longest first (to mask them in output)."""
        return sorted((v for k, v in self.values.items() if k in self.secure and v), key=len, reverse=True)

    def arg_string(self) -> str:
        """``-name value …`` with secure values masked (Rundeck's argString, safe to show)."""
        return " ".join(f"-{name} {_quote_arg(value)}" for name, value in self.masked().items())


def _quote_arg(value: str) -> str:
    return f'"{value}"' if not value or any(c.isspace() for c in value) else value


def parse_arg_string(args: str | Sequence[str]) -> dict[str, list[str]]:
    """``-name value -name value2 -flag`` as ``{name: [values…]}``; a string is tokenized first.

    A name given twice collects both values (for multivalued options); a name with no value gets ``""``.
    """
    tokens = tokenize(args) if isinstance(args, str) else list(args)
    result: dict[str, list[str]] = {}
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if not token.startswith("-") or len(token) < 2:
            raise OptionValueError(f"unexpected argument {token!r}: expected -optionname value")
        name = token[1:]
        has_value = index + 1 < len(tokens) and not _looks_like_name(tokens[index + 1])
        result.setdefault(name, []).append(tokens[index + 1] if has_value else "")
        index += 2 if has_value else 1
    return result


def _looks_like_name(token: str) -> bool:
    return len(token) > 1 and token.startswith("-") and not token[1:2].isdigit()


def resolve_options(
    options: Sequence[OptionLike],
    supplied: Mapping[str, str | Sequence[str]],
    *,
    fetch_values: ValuesFetcher | None = None,
    read_password: PasswordReader | None = None,
    job: Mapping[str, str] | None = None,
) -> ResolvedOptions:
    """Check ``supplied`` values against the job's options and apply defaults.

    ``read_password`` reads ``storagePath`` defaults of secure options (none: they cannot be read); ``job`` is
    the ``job.*`` context their paths may refer to. Raises :class:`OptionValueError` for an unknown option, a
    missing required value (or a required ``storagePath`` default that cannot be read), a value not among the
    enforced allowed values, a value not matching the regex, a bad date, or a ``valuesUrl`` that fails.
    """
    known = {option.name: option for option in options}
    unknown = sorted(set(supplied) - set(known))
    if unknown:
        listed = ", ".join(known) or "none"
        raise OptionValueError(f"unknown option '{unknown[0]}' (the job's options: {listed})", option=unknown[0])
    deferred = deferred_paths(options, {o.name for o in options if _given(o, supplied)})
    read_now = [o for o in options if o.name not in deferred]
    stored, warnings = _stored_defaults(read_now, supplied, read_password, job or {})
    supplied = {**supplied, **stored}
    values: dict[str, str] = {}
    delimiters: dict[str, str] = {}
    for option in options:
        if option.name in deferred:  # no value here: each node reads its own (its value default too)
            continue
        items = _items(option, supplied.get(option.name))
        _check(option, items, fetch_values or fetch_remote_values)
        if items is None:
            continue
        delimiter = option.delimiter or ","
        values[option.name] = delimiter.join(items) if option.multivalued else items[0]
        if option.multivalued:
            delimiters[option.name] = delimiter
    secure = frozenset(o.name for o in options if o.secure)
    exposed = frozenset(o.name for o in options if o.secure and o.value_exposed)
    return ResolvedOptions(
        values=values,
        delimiters=delimiters,
        secure=secure,
        exposed=exposed,
        warnings=tuple(warnings),
        deferred=deferred,
    )


def deferred_paths(options: Sequence[OptionLike], given: Set[str]) -> dict[str, str]:
    """The secure options whose ``storagePath`` default is read per node, by name, with that path as written:
    those with no value ``given`` whose path refers to ``${node.*}`` (as Rundeck defers them). An execution
    stores no value for them, so when it is driven the names of its stored values are the ``given`` ones."""
    return {
        o.name: o.storage_path
        for o in options
        if o.secure and o.storage_path and o.name not in given and _refers_to_node(o.storage_path)
    }


def _refers_to_node(path: str) -> bool:
    return any(reference.ctx == "node" for reference in references(path))


def _given(option: OptionLike, supplied: Mapping[str, str | Sequence[str]]) -> bool:
    """True when ``supplied`` holds a value for ``option`` (an empty one does not count; nor does a default)."""
    return _items(option, supplied.get(option.name), default=False) is not None


def storage_path_context(job: Mapping[str, str], options: Mapping[str, str]) -> DataContext:
    """What a ``storagePath`` may refer to: the ``job.*`` context and the values of non-secure ``options``."""
    context = DataContext()
    context.merge("job", job)
    context.merge("option", options)
    return context


def read_stored_default(
    option: OptionLike, path: str, read_password: PasswordReader | None, *, node: str | None = None
) -> tuple[str | None, str | None]:
    """The default of ``option`` read from key storage at ``path`` (expanded), for ``node`` when it is read per
    node: ``(value, None)``, or ``(None, warning)`` for an option that is not required when it cannot be read.
    Raises :class:`OptionValueError` naming the option, the node and the path (never a value) for a required one."""
    try:
        if read_password is None:
            raise KeyStoreError(path, "key storage is not available here")
        return read_password(path), None
    except KeyStoreError as exc:
        where = f" for node {node}" if node is not None else ""
        reason = f"its default{where} could not be read from key storage path {path}: {exc.reason}"
        if option.required:
            hint = (
                f"Store it: xlr keys add {path} --type password --prompt"
                if isinstance(exc, KeyNotFoundError)
                else exc.hint
            )
            raise OptionValueError(
                f"option '{option.name}' is required and {reason}", option=option.name, hint=hint
            ) from None
        return None, f"Option '{option.name}': {reason}"


def _stored_defaults(
    options: Sequence[OptionLike],
    supplied: Mapping[str, str | Sequence[str]],
    read_password: PasswordReader | None,
    job: Mapping[str, str],
) -> tuple[dict[str, str], list[str]]:
    """The key storage defaults of secure options with a ``storagePath`` and no value given, and a warning for
    each optional one that could not be read (a required one raises :class:`OptionValueError`)."""
    wanted = [o for o in options if o.secure and o.storage_path and not _given(o, supplied)]
    if not wanted:
        return {}, []
    plain = {o.name: _text(supplied[o.name]) for o in options if not o.secure and o.name in supplied}
    context = storage_path_context(job, plain)
    values: dict[str, str] = {}
    warnings: list[str] = []
    for option in wanted:
        path = expand(option.storage_path or "", context, blank_missing=False).strip()
        value, warning = read_stored_default(option, path, read_password)
        if value is not None:
            values[option.name] = value
        if warning is not None:
            warnings.append(warning)
    return values, warnings


def _text(given: str | Sequence[str]) -> str:
    return given if isinstance(given, str) else ",".join(given)


def _items(option: OptionLike, given: str | Sequence[str] | None, *, default: bool = True) -> list[str] | None:
    """The option's value as a list of items, the default (unless ``default`` is false) when nothing (or an
    empty value) is given."""
    raw: list[str] = [given] if isinstance(given, str) else list(given or [])
    raw = [item for item in raw if item != ""]
    if not raw:
        if not default or option.value in (None, ""):
            return None
        raw = [option.value]
    if not option.multivalued:
        return [raw[-1]]
    delimiter = option.delimiter or ","
    return [part for item in raw for part in item.split(delimiter) if part != ""]


def _check(option: OptionLike, items: list[str] | None, fetch_values: ValuesFetcher) -> None:
    label = f"option '{option.name}'"
    if items is None:
        if option.required:
            raise OptionValueError(f"{label} is required", option=option.name)
        return
    for item in items:
        shown = MASK if option.secure else repr(item)
        if option.regex is not None and not _full_match(option, item):
            raise OptionValueError(
                f"{label}: value {shown} does not match the regular expression {option.regex!r}", option=option.name
            )
        if option.is_date and option.date_format and not _is_date(item, option.date_format):
            raise OptionValueError(
                f"{label}: value {shown} is not a date in the format {option.date_format!r}", option=option.name
            )
    if option.enforced:
        allowed = list(option.values or ()) + (fetch_values(option.values_url) if option.values_url else [])
        for item in items:
            if item not in allowed:
                shown = MASK if option.secure else repr(item)
                raise OptionValueError(
                    f"{label}: value {shown} is not one of the allowed values: {', '.join(allowed)}", option=option.name
                )


def _full_match(option: OptionLike, item: str) -> bool:
    shown = MASK if option.secure else repr(item)
    try:
        return full_match(option.regex or "", item)
    except regex.error as exc:
        raise OptionValueError(
            f"option '{option.name}': invalid regular expression {option.regex!r}: {exc}", option=option.name
        ) from None
    except RegexTimeout as exc:
        raise OptionValueError(
            f"option '{option.name}': value {shown} {exc} the regular expression {option.regex!r}",
            option=option.name,
            hint="Simplify the regex: nested repetition such as (a|a)+ backtracks without end on some values.",
        ) from None


# Rundeck's option dates use moment.js patterns; the longest tokens are replaced first.
_MOMENT_TOKENS = [
    ("YYYY", "%Y"), ("YY", "%y"), ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"), ("DD", "%d"),
    ("dddd", "%A"), ("ddd", "%a"), ("HH", "%H"), ("hh", "%I"), ("mm", "%M"), ("ss", "%S"),
    ("SSS", "%f"), ("ZZ", "%z"), ("Z", "%z"), ("A", "%p"), ("a", "%p"),
]  # fmt: skip
_MOMENT = re.compile("|".join(re.escape(token) for token, _ in _MOMENT_TOKENS) + r"|\[[^\]]*\]")


def strptime_format(moment_format: str) -> str:
    """A moment.js date pattern (``MM/DD/YYYY hh:mm a``) as a :func:`datetime.strptime` format."""
    table = dict(_MOMENT_TOKENS)

    def convert(match: re.Match[str]) -> str:
        text = match.group(0)
        return text[1:-1].replace("%", "%%") if text.startswith("[") else table[text]

    pieces = _MOMENT.split(moment_format)
    tokens = [convert(m) for m in _MOMENT.finditer(moment_format)]
    out = [pieces[0].replace("%", "%%")]
    for token, piece in zip(tokens, pieces[1:], strict=True):
        out += [token, piece.replace("%", "%%")]
    return "".join(out)


def _is_date(value: str, moment_format: str) -> bool:
    try:
        dt.datetime.strptime(value, strptime_format(moment_format))
    except ValueError:
        return False
    return True


def fetch_remote_values(url: str) -> list[str]:
    """The allowed values a ``valuesUrl`` serves: a JSON list of strings, a list of ``{name, value}``
    objects, or an object of ``name: value``. Raises :class:`OptionValueError` when it cannot be read."""
    shown = redact(url)  # a user part's password (basic authentication, as Rundeck allows) is never shown
    try:
        response = requests.get(url, timeout=VALUES_URL_TIMEOUT, headers={"Accept": "application/json"})
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        password = urlsplit(url).password
        reason = str(exc).replace(url, shown).replace(password, "***") if password else str(exc)
        raise OptionValueError(f"valuesUrl {shown} could not be read: {reason}") from None
    if isinstance(data, dict):
        return [str(value) for value in data.values()]
    if isinstance(data, list):
        return [str(item.get("value", item.get("name"))) if isinstance(item, dict) else str(item) for item in data]
    raise OptionValueError(f"valuesUrl {shown} did not return a JSON list or object")
