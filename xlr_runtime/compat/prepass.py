"""Line-preserving clean-up of a Python 2 script before fissix parses it.

Real Jython plugins contain three things neither fissix nor CPython accepts: indentation that mixes tabs and
spaces, a last line without a newline, and attribute names that are keywords (Jython allows
``releaseFilters.from = x`` and ``PERIOD_FORMATTER.print(d)`` because they name Java members). Each fix keeps
every line where it was, so tracebacks of the translated script still point at the original line.
"""

from __future__ import annotations

import io
import keyword
import tokenize

#: Attribute names rewritten to ``name_`` (PEP 8's convention for keyword clashes): the Python 3 keywords
#: plus ``print`` and ``exec``, which are statements in fissix's Python 2 grammar.
KEYWORD_ATTRIBUTES = frozenset(keyword.kwlist) | {"print", "exec"}

#: Tokens after which a ``.`` starts an attribute access (rather than a relative import).
_EXPRESSION_END = {tokenize.NAME, tokenize.STRING, tokenize.NUMBER}


def prepare(source: str) -> str:
    """Return ``source`` with line endings normalised, tabs in indentation expanded when the file mixes
    tabs and spaces, keyword attribute names renamed to ``name_``, and a final newline."""
    source = source.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if mixes_tabs_and_spaces(source):
        source = expand_indentation_tabs(source)
    source = rename_keyword_attributes(source)
    if source and not source.endswith("\n"):
        source += "\n"
    return source


def mixes_tabs_and_spaces(source: str) -> bool:
    """True when some lines are indented with tabs and others (or the same) with spaces."""
    tabs = spaces = False
    for line in source.splitlines():
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        tabs = tabs or "\t" in indent
        spaces = spaces or " " in indent
    return tabs and spaces


def expand_indentation_tabs(source: str) -> str:
    """Expand tabs in leading whitespace to the next multiple of 8 columns, as Python 2 did."""
    lines = source.split("\n")
    for number, line in enumerate(lines):
        stripped = line.lstrip(" \t")
        if "\t" in line[: len(line) - len(stripped)]:
            lines[number] = line[: len(line) - len(stripped)].expandtabs(8) + stripped
    return "\n".join(lines)


def rename_keyword_attributes(source: str) -> str:
    """Rename ``obj.from``/``obj.print`` style attributes to ``obj.from_``/``obj.print_``.

    Only a name right after a ``.`` that follows an expression is renamed (never ``from . import x``). A file
    that does not tokenize is returned unchanged: the translator reports its syntax error.
    """
    edits: list[tuple[int, int]] = []  # (row, end column) of each name to suffix with "_"
    previous: list[tokenize.TokenInfo] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT):
                continue
            if tok.type == tokenize.NAME and tok.string in KEYWORD_ATTRIBUTES and _follows_attribute_dot(previous):
                edits.append(tok.end)
            previous = [*previous[-1:], tok]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return source
    if not edits:
        return source
    lines = source.split("\n")
    for row, column in reversed(edits):
        line = lines[row - 1]
        lines[row - 1] = line[:column] + "_" + line[column:]
    return "\n".join(lines)


def _follows_attribute_dot(previous: list[tokenize.TokenInfo]) -> bool:
    if len(previous) < 2 or previous[-1].string != ".":
        return False
    before = previous[-2]
    if before.type == tokenize.NAME:
        return not keyword.iskeyword(before.string) or before.string in {"True", "False", "None"}
    return before.type in _EXPRESSION_END or before.string in {")", "]", "}"}
