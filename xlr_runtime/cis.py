"""Configuration items (servers and other CIs) defined in the home's ``xlr.toml``.

Each ``[ci.NAME]`` table names its type and gives property values::

    [ci.jenkins]
    type = "jenkins.Server"
    url = "http://127.0.0.1:8080"
    username = "admin"
    password = { env = "JENKINS_TOKEN" }     # password properties: ONLY by reference to an environment variable

Values are checked and coerced against the CI type from the registry when the runtime starts (unknown type,
unknown property, wrong kind: a ``path:line`` :class:`ConfigError`). A password property written literally is
an error, not a warning: ``xlr.toml`` is an ordinary file that ends up in backups, dotfile repositories and
bug reports, and a warning is read only after the secret has leaked. Environment variables are read when a
script run needs the CI (so ``xlr serve`` sees its own environment); a variable that is not set then fails the
task with a message naming the variable, never the value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from xlr_runtime.errors import (
    UNKNOWN_TYPE_HINT,
    ConfigError,
    TaskInputError,
    UnknownTypeError,
    ValueCoercionError,
)
from xlr_runtime.scripting.contract import CiValue
from xlr_runtime.settings import ConfigDocument
from xlr_runtime.typesystem.kinds import coerce
from xlr_runtime.typesystem.model import TaskType

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class TypeLookup(Protocol):
    """The part of the type registry CIs need."""

    def get(self, name: str) -> TaskType:
        """The loaded type ``name`` (raises :class:`UnknownTypeError`)."""
        ...


@dataclass(frozen=True)
class ConfiguredCi:
    """One CI from ``xlr.toml``: coerced values, and the environment variable behind each password property."""

    name: str
    type: TaskType
    values: Mapping[str, Any]
    password_env: Mapping[str, str]

    def is_a(self, type_name: str | None) -> bool:
        """True when this CI's type is ``type_name`` or extends it (any type when ``None``)."""
        return type_name is None or self.type.is_a(type_name)

    def resolve(self, environ: Mapping[str, str] | None = None) -> CiValue:
        """The CI for a script run, passwords read from the environment now.

        Raises :class:`ConfigError` naming the variable when one is not set.
        """
        env = os.environ if environ is None else environ
        values = {name: prop.initial_value for name, prop in self.type.properties.items()}
        values.update(self.values)
        for prop, variable in self.password_env.items():
            if variable not in env:
                raise ConfigError(
                    f"CI {self.name!r}: environment variable {variable} (for {prop!r}) is not set",
                    path=None,
                    hint=f"export {variable}=... before starting xlr.",
                )
            values[prop] = env[variable]
        return CiValue(
            name=self.name, type=self.type.name, values=values, password_fields=tuple(self.type.password_properties)
        )


class CiCatalog:
    """The CIs of one home, by name."""

    def __init__(self, cis: Mapping[str, ConfiguredCi] | None = None) -> None:
        self._cis = dict(cis or {})

    def names(self) -> list[str]:
        """Every CI name, sorted."""
        return sorted(self._cis)

    def get(self, name: str) -> ConfiguredCi | None:
        """The CI called ``name``, or ``None``."""
        return self._cis.get(name)

    def require(self, name: str, *, prop: str, referenced_type: str | None) -> ConfiguredCi:
        """The CI a task property names; :class:`TaskInputError` if unknown or of the wrong type."""
        ci = self._cis.get(name)
        if ci is None:
            known = ", ".join(self.names()) or "none defined"
            raise TaskInputError(
                f"input {prop!r}: unknown CI {name!r}",
                prop=prop,
                hint=f"Define it as [ci.{name}] in xlr.toml (known CIs: {known}).",
            )
        if not ci.is_a(referenced_type):
            raise TaskInputError(f"input {prop!r}: CI {name!r} is a {ci.type.name}, not a {referenced_type}", prop=prop)
        return ci


def load_cis(config: ConfigDocument | Path, registry: TypeLookup) -> CiCatalog:
    """Check every ``[ci.NAME]`` table of ``config`` against its type (missing file: no CIs).

    ``config`` is the parsed ``xlr.toml`` of the start-up (:attr:`Settings.source`), or its path to read it now.
    """
    document = config if isinstance(config, ConfigDocument) else ConfigDocument.read(config)
    tables = document.tables.get("ci", {})
    if not isinstance(tables, dict):
        raise ConfigError("'ci' must be a table of [ci.NAME] tables", path=document.path, line=document.line_of("ci"))
    return CiCatalog({name: _configured(name, body, document, registry) for name, body in tables.items()})


def _configured(name: str, body: Any, document: ConfigDocument, registry: TypeLookup) -> ConfiguredCi:
    def error(message: str, key: str | None = None, hint: str | None = None) -> ConfigError:
        line = document.line_of("ci", name, *([key] if key else []))
        return ConfigError(f"ci {name!r}: {message}", path=document.path, line=line, hint=hint)

    if not isinstance(body, dict):
        raise error("must be a table")
    type_name = body.get("type")
    if not isinstance(type_name, str):
        raise error("missing 'type' (e.g. type = \"jenkins.Server\")")
    try:
        ci_type = registry.get(type_name)
    except UnknownTypeError:
        raise error(f"unknown type {type_name!r}", "type", UNKNOWN_TYPE_HINT) from None
    values: dict[str, Any] = {}
    password_env: dict[str, str] = {}
    for key, raw in body.items():
        if key == "type":
            continue
        prop = ci_type.properties.get(key)
        if prop is None:
            known = ", ".join(ci_type.properties)
            raise error(f"unknown property {key!r} of {type_name}", key, f"Properties of {type_name}: {known}")
        if prop.password:
            password_env[key] = _env_reference(raw, lambda msg, k=key: error(msg, k, _PASSWORD_HINT.format(k=k)))
            continue
        try:
            values[key] = coerce(key, prop.kind, raw, prop.enum_values)
        except ValueCoercionError as exc:
            raise error(str(exc), key) from None
    return ConfiguredCi(name=name, type=ci_type, values=values, password_env=password_env)


_PASSWORD_HINT = 'Write {k} = {{ env = "SOME_VARIABLE" }} and export SOME_VARIABLE before starting xlr.'


def _env_reference(raw: Any, error: Any) -> str:
    if (
        isinstance(raw, dict)
        and set(raw) == {"env"}
        and isinstance(raw["env"], str)
        and _ENV_NAME.fullmatch(raw["env"])
    ):
        return str(raw["env"])
    if isinstance(raw, str):
        raise error("password properties cannot be written in xlr.toml; refer to an environment variable")
    raise error('a password property must be { env = "VARIABLE" }')
