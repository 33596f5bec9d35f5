"""Project and framework properties, where Rundeck keeps them: ``project.properties`` and ``framework.properties``.

Rundeck reads node-execution settings from a node's attributes first, then from its project's
``etc/project.properties`` (keys ``project.*`` and ``service.*``), then from the server's
``etc/framework.properties`` (keys ``framework.*``). Here those files live in the home:

- ``<home>/projects/<project>/etc/project.properties``
- ``<home>/etc/framework.properties``

Both are Java ``.properties`` files (escapes, continuation lines, ``#``/``!`` comments); a missing file is empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import javaproperties

from xlr_runtime.errors import ConfigError


def project_properties_path(home_root: Path, project: str) -> Path:
    """``<home>/projects/<project>/etc/project.properties``."""
    return home_root / "projects" / project / "etc" / "project.properties"


def framework_properties_path(home_root: Path) -> Path:
    """``<home>/etc/framework.properties``."""
    return home_root / "etc" / "framework.properties"


def read_properties(path: Path) -> dict[str, str]:
    """The keys of a Java ``.properties`` file (empty when it does not exist). Raises :class:`ConfigError`
    naming the file when it cannot be read or decoded."""
    try:
        with path.open("r", encoding="utf-8") as file:
            return dict(javaproperties.load(file))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"cannot read properties: {exc}", path=path) from None


@dataclass(frozen=True)
class ProjectProperties:
    """One project's ``project.properties`` and the server's ``framework.properties``."""

    project: Mapping[str, str] = field(default_factory=dict)
    framework: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "project", MappingProxyType(dict(self.project)))
        object.__setattr__(self, "framework", MappingProxyType(dict(self.framework)))

    @classmethod
    def load(cls, home_root: Path, project: str) -> ProjectProperties:
        """Read both files of ``project`` in the home ``home_root``."""
        return cls(
            project=read_properties(project_properties_path(home_root, project)),
            framework=read_properties(framework_properties_path(home_root)),
        )

    def setting(self, name: str) -> str | None:
        """``project.NAME``, else ``framework.NAME``: the project and framework levels of a node attribute,
        in Rundeck's order. Blank values count as unset."""
        for value in (self.project.get(f"project.{name}"), self.framework.get(f"framework.{name}")):
            if value is not None and value.strip():
                return value.strip()
        return None
