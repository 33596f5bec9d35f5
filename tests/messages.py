"""Asserting our error messages without asserting a dependency's wording. Where a message of ours quotes the
reason a parser gave (libxml2 through lxml, libyaml or PyYAML), that reason changes with the dependency's
version and build; what is ours — the file, the line, which kind of problem — stays exact."""

from __future__ import annotations

#: Ends an expected message: "any one-line reason the parser gives" (not empty).
PARSER_REASON = "<the parser's own reason>"


def matches(actual: str, expected: str) -> bool:
    """``actual == expected``, except that a trailing :data:`PARSER_REASON` in ``expected`` stands for a
    non-empty reason on the same line."""
    if not expected.endswith(PARSER_REASON):
        return actual == expected
    prefix = expected[: -len(PARSER_REASON)]
    reason = actual[len(prefix) :]
    return actual.startswith(prefix) and bool(reason.strip()) and "\n" not in reason
