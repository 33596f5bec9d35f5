"""``JsonPathResult``: XL Release's JSONPath helper for scripts, on jsonpath-ng.

Scripts use it injected or imported (``from com.xebialabs.xlrelease.plugin.webhook import JsonPathResult``)::

    number = JsonPathResult(response.response, 'executable.number').get()

As in XL Release (Jayway JsonPath), the leading ``$.`` is optional, a definite path gives its value and a path
with wildcards, filters, slices or recursive descent gives the list of matches. A path with no value, or a null
value, gives ``None`` (the Jenkins plugin relies on ``executable.number`` being ``None`` while a build is queued).
"""

from __future__ import annotations

import functools
import json
import re
from typing import TYPE_CHECKING, Any

from xlr_runtime.errors import ScriptError

if TYPE_CHECKING:
    from jsonpath_ng import JSONPath

_INDEFINITE = re.compile(r"\*|\.\.|\?|\[[^\]]*[:,][^\]]*\]")


class JsonPathResult:
    """The value at ``path`` in the JSON document ``json_text`` (text, bytes, or an already parsed value)."""

    def __init__(self, json_text: str | bytes | Any, path: str) -> None:
        self.path = path
        self._document = _document(json_text)
        self._expression = _compiled(path)

    def get(self) -> Any:
        """The value at the path; a list for indefinite paths; ``None`` when the path has no value or is null."""
        values = [match.value for match in self._expression.find(self._document)]
        if _INDEFINITE.search(self.path):
            return values
        return values[0] if values else None

    def __repr__(self) -> str:
        return f"JsonPathResult(path={self.path!r})"


def _document(json_text: str | bytes | Any) -> Any:
    if not isinstance(json_text, str | bytes | bytearray):
        return json_text
    try:
        return json.loads(json_text)
    except ValueError as exc:
        preview = json_text[:60] if isinstance(json_text, str) else bytes(json_text[:60]).decode("utf-8", "replace")
        raise ScriptError(f"JsonPathResult: the text is not JSON ({exc}): {preview!r}") from None


@functools.lru_cache(maxsize=512)
def _compiled(path: str) -> JSONPath:
    text = path.strip()
    if not text.startswith("$"):
        text = "$." + text if not text.startswith("[") else "$" + text
    from jsonpath_ng.ext import parse  # imported by the first JsonPathResult, not by every worker at start

    try:
        return parse(text)
    except Exception as exc:  # the lexer and parser raise several unrelated types
        raise ScriptError(f"JsonPathResult: invalid path {path!r}: {exc}") from None
