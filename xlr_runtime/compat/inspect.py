"""Static check of plugin scripts for ``xlr check``: does each script compile (after translation from
Python 2), and which of its imports can the runtime not serve?

:func:`inspect_script` reports on one script as a :class:`ScriptReport`; :func:`check_scripts` is the checker
registered with :mod:`xlr_runtime.typesystem.check`, yielding one problem per script that does not compile and
per unsupported import, each as ``path:line: message``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xlr_runtime.compat.detect import needs_translation
from xlr_runtime.compat.imports import SHIMS, is_java_name, unsupported
from xlr_runtime.compat.translate import to_python3
from xlr_runtime.errors import ScriptSyntaxError
from xlr_runtime.typesystem.problems import Problem

if TYPE_CHECKING:
    from xlr_runtime.typesystem.check import CheckContext


@dataclass(frozen=True)
class ScriptReport:
    """What :func:`inspect_script` found: ``python2`` (it was translated), ``error`` (one line, when it does not
    compile) and ``unsupported_imports`` as ``(line, module)`` pairs."""

    path: str
    python2: bool
    error: ScriptSyntaxError | None = None
    unsupported_imports: list[tuple[int, str]] = field(default_factory=list)

    @property
    def compiles(self) -> bool:
        """True when the script compiles (after translation when it is Python 2)."""
        return self.error is None

    @property
    def dialect(self) -> str:
        """``translated from Python 2`` or ``Python 3``."""
        return "translated from Python 2" if self.python2 else "Python 3"

    def problems(self) -> list[Problem]:
        """``path:line: does not compile: …`` or one ``import of 'x' is not supported`` problem per import."""
        if self.error is not None:
            return [Problem(self.path, self.error.line or 0, f"does not compile: {self.error.detail}")]
        return [
            Problem(self.path, line, f"import of {module!r} is not supported by xlr-runtime")
            for line, module in self.unsupported_imports
        ]

    def status(self) -> str | None:
        """The script's line in ``xlr check``'s listing: ``path: ok (Python 3)``, ``path: ok (translated from
        Python 2)``, ``path: compiles (…), 1 unsupported import``; None when it does not compile (its problem
        line says so)."""
        if self.error is not None:
            return None
        count = len(self.unsupported_imports)
        if not count:
            return f"{self.path}: ok ({self.dialect})"
        return f"{self.path}: compiles ({self.dialect}), {count} unsupported import{'s' if count != 1 else ''}"

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict for ``xlr check --json``."""
        error = self.error
        return {
            "path": self.path,
            "translated": self.python2,
            "compiles": self.compiles,
            "error": None if error is None else {"line": error.line, "message": error.detail},
            "unsupported_imports": [{"line": line, "module": module} for line, module in self.unsupported_imports],
        }


def inspect_script(source: str, path: str, mode: str = "auto") -> ScriptReport:
    """Translate ``source`` as the worker would (``mode``: auto, on, off) and list its unsupported imports."""
    python2 = mode == "on" or (mode == "auto" and needs_translation(source, path))
    try:
        translated = to_python3(source, path, mode)
        tree = ast.parse(translated, path)
    except ScriptSyntaxError as exc:
        return ScriptReport(path, python2, exc)
    except SyntaxError as exc:
        return ScriptReport(path, python2, ScriptSyntaxError(exc.msg, path=path, line=exc.lineno))
    return ScriptReport(path, python2, None, unsupported_imports(tree))


def unsupported_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """``(line, module)`` for each import in ``tree`` that would raise ``UnsupportedImportError``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names if unsupported(alias.name))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if unsupported(node.module):
                found.append((node.lineno, node.module))
            elif node.module in SHIMS and is_java_name(node.module):
                found.extend(
                    (node.lineno, f"{node.module}.{alias.name}")
                    for alias in node.names
                    if alias.name != "*" and _missing_from_shim(node.module, alias.name)
                )
    return sorted(found)


def check_scripts(context: CheckContext) -> Iterable[Problem]:
    """The ``xlr check`` checker: a problem per script that does not compile and per unsupported import."""
    for report in context.script_reports:
        yield from report.problems()


def _missing_from_shim(module: str, name: str) -> bool:
    """True when the shim serving ``module`` has no ``name`` (e.g. ``from java.lang import Runtime``)."""
    import importlib

    try:
        served = importlib.import_module(SHIMS[module])
    except ImportError:
        return False
    return not hasattr(served, name) and not name.startswith("__")
