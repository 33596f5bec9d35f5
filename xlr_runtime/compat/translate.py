"""Python 2 -> 3 translation of plugin scripts (fissix), keeping line numbers so tracebacks stay true.

``to_python3(source, filename, mode)`` is what the worker calls before compiling a script:

* ``off`` returns the source unchanged;
* ``auto`` returns it unchanged when it is Python 3 (see :mod:`xlr_runtime.compat.detect`), else translates;
* ``on`` always translates.

Translation is :func:`xlr_runtime.compat.prepass.prepare` followed by fissix with the fixers in
:data:`FIXERS`. Every fixer used keeps the statement on its line; where fissix splits one import into several
statements, the extra statements are joined with ``;`` (:func:`_rejoin_split_statements`). Results are cached
by content hash in memory and under the user cache directory (``$XDG_CACHE_HOME/xlr-runtime/translated``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import os
import threading
import warnings
from collections import OrderedDict
from pathlib import Path

import fissix
from fissix import pytree
from fissix.pgen2 import token
from fissix.pgen2.parse import ParseError
from fissix.pgen2.tokenize import TokenError
from fissix.pygram import python_symbols
from fissix.refactor import RefactoringTool, get_fixers_from_package

from xlr_runtime.compat.detect import needs_translation
from xlr_runtime.compat.prepass import prepare
from xlr_runtime.errors import ScriptSyntaxError

MODES = ("auto", "on", "off")

#: Bumped whenever our pre-pass or fixer choice changes the output, so stale disk-cache entries are ignored.
TRANSLATOR_VERSION = "6"

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

_MEMORY_CACHE_SIZE = 512
_memory_cache: OrderedDict[str, str] = OrderedDict()
_lock = threading.Lock()


def to_python3(source: str, filename: str, mode: str = "auto") -> str:
    """Return ``source`` as Python 3 with the same line numbering.

    ``mode`` is ``auto`` (translate only Python 2 scripts), ``on`` or ``off``. ``filename`` is only used in
    error messages. Raises :class:`ScriptSyntaxError` (``path:line: message``) when the script does not
    compile after translation, and :class:`ValueError` for an unknown mode.
    """
    if mode not in MODES:
        raise ValueError(f"translate mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "off":
        return source
    key = cache_key(source, mode)
    with _lock:
        cached = _memory_cache.get(key)
        if cached is not None:
            _memory_cache.move_to_end(key)
            return cached
    result = _translated_or_cached_on_disk(source, filename, key, mode)
    with _lock:
        _memory_cache[key] = result
        while len(_memory_cache) > _MEMORY_CACHE_SIZE:
            _memory_cache.popitem(last=False)
    return result


def cache_key(source: str, mode: str) -> str:
    """The cache key of a translation: content hash, mode, fissix and translator versions."""
    digest = hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{digest}-{mode}-fissix{fissix.__version__}-t{TRANSLATOR_VERSION}"


def cache_dir() -> Path:
    """Where translated scripts are kept between processes (``XDG_CACHE_HOME`` or ``~/.cache``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "xlr-runtime" / "translated"


def clear_memory_cache() -> None:
    """Forget in-process translations (tests, and a worker told that plugins changed)."""
    with _lock:
        _memory_cache.clear()


def translate(source: str, filename: str) -> str:
    """Translate ``source`` from Python 2 unconditionally (no cache); see :func:`to_python3`."""
    prepared = prepare(source)
    tree = _parse_and_fix(prepared, filename)
    _rejoin_split_statements(tree)
    result = str(tree)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning / DeprecationWarning about the text: Jython has none
            compile(result, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise ScriptSyntaxError(exc.msg, path=filename, line=exc.lineno) from None
    return result


def _translated_or_cached_on_disk(source: str, filename: str, key: str, mode: str) -> str:
    if mode == "auto" and not needs_translation(source, filename):
        return source
    path = cache_dir() / f"{key}.py"
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        pass
    result = translate(source, filename)
    _write_atomically(path, result)
    return result


def _write_atomically(path: Path, text: str) -> None:
    """Best effort: a read-only or full disk only costs the cache."""
    temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


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
