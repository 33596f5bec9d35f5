"""A definition problem found while reading or resolving synthetic.xml files: ``path:line: message``.

The parser and the registry record every problem they find instead of stopping at the first one; loading a
registry turns the first error into a :class:`~xlr_runtime.errors.DefinitionError`, ``xlr check`` prints them
all. A *warning* (``warning=True``) is something XL Release accepts and so do we (a property defined twice in
one type): loading goes on, ``xlr check`` prints it as ``path:line: warning: message`` and still exits 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from xlr_runtime.errors import DefinitionError, location


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake in a definition file; sorts by path, then line, then message."""

    path: str
    line: int
    message: str
    warning: bool = False

    def __str__(self) -> str:
        return f"{location(self.path, self.line)}: {'warning: ' if self.warning else ''}{self.message}"

    def to_error(self, *, hint: str | None = None) -> DefinitionError:
        """The :class:`DefinitionError` that a strict load raises for this problem."""
        return DefinitionError(self.message, path=self.path, line=self.line or None, hint=hint)

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict for ``xlr check --json``; a warning also has ``"warning": true``."""
        data: dict[str, object] = {"path": self.path, "line": self.line or None, "message": self.message}
        if self.warning:
            data["warning"] = True
        return data
