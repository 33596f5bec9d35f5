"""Decide whether a script is Python 2: it does not compile as Python 3, or it does but uses Python 2 only
names (``dict.iteritems``, ``unicode``, ``urllib2``, ``filter(...)[0]`` …) that would fail when it runs.

A name the script binds itself (``long = 3``) is not a Python 2 marker.
"""

from __future__ import annotations

import ast

from xlr_runtime.compat.py2_names import RENAMED_MODULES, URLLIB_MOVED_NAMES

#: Methods that only Python 2 dicts have, and Java's ``printStackTrace`` that Jython offered on exceptions.
PY2_METHODS = frozenset(
    {"iteritems", "itervalues", "iterkeys", "has_key", "viewitems", "viewkeys", "viewvalues", "printStackTrace"}
)
#: Builtins that only Python 2 has (and that fissix renames).
PY2_BUILTINS = frozenset({"unicode", "basestring", "long", "xrange", "raw_input", "unichr", "execfile", "apply"})
#: Modules renamed or split in Python 3.
PY2_MODULES = RENAMED_MODULES | {"urllib2"}
#: Modules of Python 2 that Python 3 removed, by full name (``xml.etree.cElementTree``, gone in 3.9).
REMOVED_MODULES = frozenset({"xml.etree.cElementTree"})
#: ``urllib`` functions that moved to ``urllib.parse``/``urllib.request`` in Python 3.
PY2_URLLIB_NAMES = URLLIB_MOVED_NAMES
#: Module functions Python 3 removed (``string.strip``, ``base64.encodestring`` …).
REMOVED_FUNCTIONS = {
    "string": frozenset(
        {
            "letters",
            "lowercase",
            "uppercase",
            "maketrans",
            "strip",
            "lstrip",
            "rstrip",
            "split",
            "splitfields",
            "join",
            "joinfields",
            "replace",
            "lower",
            "upper",
            "find",
            "atoi",
            "atof",
        }
    ),
    "base64": frozenset({"encodestring", "decodestring"}),
}
#: ``base64`` functions that Python 2 scripts call with text.
BASE64_CODECS = frozenset(
    {"b64encode", "b64decode", "standard_b64encode", "urlsafe_b64encode", "b32encode", "b16encode"}
)
#: Calls whose result is a list in Python 2 and an iterator or view in Python 3.
LIST_RETURNING = frozenset({"filter", "map", "zip"})
VIEW_METHODS = frozenset({"keys", "values", "items"})


def compiles_as_python3(source: str, filename: str) -> bool:
    """True when ``source`` compiles under the running Python 3."""
    try:
        compile(source, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def python2_markers(tree: ast.Module) -> list[tuple[int, str]]:
    """``(line, what)`` for each Python 2 only construct in a module that parses as Python 3."""
    bound = _bound_names(tree)
    markers: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        what = _marker(node, bound)
        if what:
            markers.append((getattr(node, "lineno", 0), what))
    return sorted(markers)


def needs_translation(source: str, filename: str) -> bool:
    """True when ``source`` is Python 2: it does not compile as Python 3 or it has Python 2 markers."""
    if not compiles_as_python3(source, filename):
        return True
    return bool(python2_markers(ast.parse(source, filename)))


def _marker(node: ast.AST, bound: set[str]) -> str | None:
    if isinstance(node, ast.Attribute):
        return _attribute_marker(node)
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in PY2_BUILTINS - bound:
        return node.id
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return _import_marker(node)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Call):
        return _list_call(node.value, bound)
    if isinstance(node, ast.Call) and _is_text_to_base64(node):
        return "base64 on text"
    if isinstance(node, ast.Call) and _is_name(node.func, "len") and len(node.args) == 1:
        argument = node.args[0]
        return _list_call(argument, bound) if isinstance(argument, ast.Call) else None
    return None


def _attribute_marker(node: ast.Attribute) -> str | None:
    if node.attr in PY2_METHODS:
        return f".{node.attr}()"
    if _is_name(node.value, "urllib") and node.attr in PY2_URLLIB_NAMES:
        return f"urllib.{node.attr}"
    if isinstance(node.value, ast.Name) and node.attr in REMOVED_FUNCTIONS.get(node.value.id, ()):
        return f"{node.value.id}.{node.attr}"
    return None


def _import_marker(node: ast.Import | ast.ImportFrom) -> str | None:
    if isinstance(node, ast.Import):
        return next((a.name for a in node.names if _is_python2_module(a.name)), None)
    if not node.module or node.level:
        return None
    if _is_python2_module(node.module):
        return node.module
    submodules = (f"{node.module}.{a.name}" for a in node.names)
    removed = next((name for name in submodules if _is_python2_module(name)), None)
    if removed:
        return removed
    if node.module == "urllib" and any(a.name in PY2_URLLIB_NAMES for a in node.names):
        return "from urllib import ..."
    return None


def _is_python2_module(name: str) -> bool:
    return name.split(".")[0] in PY2_MODULES or name in REMOVED_MODULES


def _list_call(call: ast.Call, bound: set[str]) -> str | None:
    """A call whose result Python 2 code indexes or measures as a list."""
    if isinstance(call.func, ast.Name) and call.func.id in LIST_RETURNING - bound:
        return f"{call.func.id}(...)[...]"
    if isinstance(call.func, ast.Attribute) and call.func.attr in VIEW_METHODS and not call.args:
        return f".{call.func.attr}()[...]"
    return None


def _is_text_to_base64(call: ast.Call) -> bool:
    """``base64.b64encode("literal text")``: a ``str`` where Python 3 wants ``bytes``."""
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and _is_name(func.value, "base64")
        and func.attr in BASE64_CODECS
        and bool(call.args)
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)
    )


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _bound_names(tree: ast.Module) -> set[str]:
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    return bound
