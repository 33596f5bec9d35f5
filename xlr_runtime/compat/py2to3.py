"""The fissix half of translating a Python 2 script: parse it (as Python 2, else with ``print`` as a function),
apply the fixers in :data:`FIXERS`, and give back the text with every statement on its original line.

Every fixer used keeps the statement on its line; where fissix splits one import into several statements, the
extra statements are joined with ``;`` (:func:`_rejoin_split_statements`). Imported by
:func:`xlr_runtime.compat.translate.translate` only when a script needs translating (fissix costs ≈ 60 ms).
"""

from __future__ import annotations

import functools
import itertools
import threading
import warnings

from fissix import pytree
from fissix.pgen2 import token
from fissix.pgen2.parse import ParseError
from fissix.pgen2.tokenize import TokenError
from fissix.pygram import python_symbols
from fissix.refactor import RefactoringTool, get_fixers_from_package

from xlr_runtime.errors import ScriptSyntaxError

#: Stock fixers left out: ``fix_import`` would turn a plugin's absolute imports of its own modules into
#: relative ones; the others insert statements on new lines (the names they import are script globals, see
#: :mod:`xlr_runtime.compat.shims.py2_builtins`) or restructure classes; ``fix_sorted`` is replaced by our
#: ``fix_py2_calls``.
EXCLUDED_FIXERS = frozenset(
    f"fissix.fixes.fix_{name}"
    for name in ("import", "reduce", "intern", "reload", "operator", "exitfunc", "metaclass", "sorted")
)
FIXERS: tuple[str, ...] = (
    *sorted(set(get_fixers_from_package("fissix.fixes")) - EXCLUDED_FIXERS),
    "xlr_runtime.compat.fixers.fix_py2_modules",
    "xlr_runtime.compat.fixers.fix_py2_elementtree",
    "xlr_runtime.compat.fixers.fix_py2_division",
    "xlr_runtime.compat.fixers.fix_py2_calls",
)

_lock = threading.Lock()


def fix(prepared: str, filename: str) -> str:
    """``prepared`` (the output of :func:`xlr_runtime.compat.prepass.prepare`) translated to Python 3 with the same
    line numbering; raises :class:`ScriptSyntaxError` when fissix cannot parse it (``filename`` names it)."""
    tree = _parse_and_fix(prepared, filename)
    _rejoin_split_statements(tree)
    return str(tree)


@functools.cache
def _tool(print_function: bool) -> RefactoringTool:
    return RefactoringTool(list(FIXERS), {"print_function": print_function})


def _parse_and_fix(prepared: str, filename: str) -> pytree.Node:
    """Parse with the Python 2 grammar; if that fails, with ``print`` as a function (Python 3 style prints)."""
    with _lock:
        try:
            return _tool(False).refactor_string(prepared, filename)
        except (ParseError, TokenError, IndentationError) as python2_error:
            try:
                return _tool(True).refactor_string(prepared, filename)
            except (ParseError, TokenError, IndentationError):
                raise _syntax_error(python2_error, prepared, filename) from None


def _syntax_error(error: Exception, source: str, filename: str) -> ScriptSyntaxError:
    """The clearest one-line description: Python 3's own compiler message when it is about the line fissix
    stopped at (``unterminated string literal (detected at line 3)`` rather than ``invalid syntax near ' '``),
    else fissix's own, since Python 3 stops earlier in a Python 2 script (at its first ``print "x"``)."""
    if isinstance(error, ParseError):
        line = error.context[1][0] if error.context else None
        message = f"invalid syntax near {error.value!r}"
    elif isinstance(error, SyntaxError):  # IndentationError from fissix's tokenizer
        line, message = error.lineno, error.msg
    else:  # TokenError: ("EOF in multi-line statement", (line, column))
        line = error.args[1][0] if len(error.args) > 1 and isinstance(error.args[1], tuple) else None
        message = str(error.args[0]) if error.args else "invalid syntax"
        if line is not None and line > source.count("\n"):  # the end of the file, not a line past it
            line = max(source.count("\n"), 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning / DeprecationWarning about the text: not ours to show
            compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        if exc.msg != "invalid syntax" and (exc.lineno == line or (line is None and not isinstance(error, ParseError))):
            return ScriptSyntaxError(exc.msg, path=filename, line=exc.lineno)
    return ScriptSyntaxError(message, path=filename, line=line)


def _rejoin_split_statements(tree: pytree.Node) -> None:
    """Join statements a fixer put on new lines onto one line with ``;``, so every later line keeps its number:
    ``from urllib2 import Request, HTTPError`` becomes two imports, ``except E, (a, b):`` gains an unpacking
    statement at the start of its body."""
    for node in list(tree.pre_order()):
        children = node.children
        for index, (current, following) in enumerate(itertools.pairwise(children)):
            if current.type == token.NEWLINE:  # a statement split inside one simple_stmt
                newline = current
            elif current.type == python_symbols.simple_stmt and following.type == python_symbols.simple_stmt:
                newline = current.children[-1]
            else:
                continue
            if _is_split_newline(newline) and "\n" not in following.prefix:
                newline.value = "; "
                following.prefix = ""
            elif _is_inserted_body_statement(node, index):
                # fix_except re-inserts the suite's own NEWLINE and INDENT leaves: put fresh ones in their place
                for position, value in ((index, "; "), (index + 1, "")):
                    leaf = pytree.Leaf(children[position].type, value)
                    leaf.parent, children[position] = node, leaf
                node.changed()


def _is_split_newline(leaf: pytree.Base) -> bool:
    """A line break a fixer added between two statements (not the empty one ``fix_future`` leaves in place of
    ``from __future__ import ...``: joining that would give ``; `` alone, a syntax error)."""
    return leaf.type == token.NEWLINE and leaf.lineno == 0 and isinstance(leaf, pytree.Leaf) and leaf.value == "\n"


def _is_inserted_body_statement(suite: pytree.Node, index: int) -> bool:
    """A second NEWLINE + INDENT in a suite, before a simple statement: a statement a fixer inserted first."""
    children = suite.children
    return (
        suite.type == python_symbols.suite
        and index > 0
        and index + 2 < len(children)
        and children[index + 1].type == token.INDENT
        and children[index + 2].type == python_symbols.simple_stmt
    )
