"""Rundeck's command-line tokenizing and shell quoting (``QuotedStringTokenizer``, ``DataContextUtils``).

:func:`tokenize` splits on whitespace; a token that *starts* with ``"`` or ``'`` is quoted by that character,
the quotes are consumed, and the quote character doubled inside stands for itself. Quotes inside a token that
did not start with one are literal. :func:`shell_quote` quotes an expanded value only when it needs it.
"""

from __future__ import annotations

#: Characters that make an expanded value need quoting (besides whitespace).
SHELL_SPECIAL = "\"';{}()&$\\|*?><`"


def _is_delimiter(char: str) -> bool:
    """Rundeck's delimiters are every character up to and including space (commons-lang ``trimMatcher``)."""
    return char <= " "


def tokenize(text: str) -> list[str]:
    """Split ``text`` the way Rundeck's ``QuotedStringTokenizer`` does.

    ``echo "a b" 'it''s'`` gives ``['echo', 'a b', "it's"]``; ``a"b c"`` gives ``['a"b', 'c"']``.
    """
    tokens: list[str] = []
    pos, end = 0, len(text)
    while pos < end:
        while pos < end and _is_delimiter(text[pos]):
            pos += 1
        if pos >= end:
            break
        pos = _read_token(text, pos, tokens)
    return tokens


def _read_token(text: str, start: int, tokens: list[str]) -> int:
    quote = text[start] if text[start] in "\"'" else ""
    chars: list[str] = []
    pos, end = start, len(text)
    quoting = bool(quote)
    if quoting:
        pos += 1
    while pos < end:
        char = text[pos]
        if quoting:
            if char == quote:
                if pos + 1 < end and text[pos + 1] == quote:
                    chars.append(quote)
                    pos += 2
                    continue
                quoting = False
            else:
                chars.append(char)
            pos += 1
        elif _is_delimiter(char):
            break
        elif quote and char == quote:
            quoting = True
            pos += 1
        else:
            chars.append(char)
            pos += 1
    tokens.append("".join(chars))
    return pos


def needs_quoting(value: str) -> bool:
    """True when ``value`` holds whitespace or a shell-special character."""
    return any(char.isspace() or char in SHELL_SPECIAL for char in value)


def shell_quote(value: str) -> str:
    """``value`` unchanged when safe, else in single quotes with ``'`` written as ``'"'"'``."""
    if not needs_quoting(value):
        return value
    return "'" + value.replace("'", "'\"'\"'") + "'"
