"""Where a key is in a TOML text: the line an error about ``xlr.toml`` points at.

``tomllib`` gives values without positions, so :func:`key_lines` reads the text once more, line by line, and
records the line of every table header and key under its full key path (``[settings]`` then
``"workers.size" = 4`` is ``("settings", "workers.size")``; ``[settings.schedule]`` then ``min_interval = 1`` is
``("settings", "schedule", "min_interval")``). Multi-line strings and arrays are skipped, so text inside them
never reads as a key; keys inside an inline table are on the line of the table's key (TOML keeps an inline table
on one line). Key segments are parsed by ``tomllib`` itself, so quoting and escapes are TOML's.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence

KeyPath = tuple[str, ...]


def key_lines(text: str) -> dict[KeyPath, int]:
    """Every header and key of ``text`` (valid TOML) with its 1-based line; the first line wins for a path that
    appears twice (``[[array]]`` tables)."""
    found: dict[KeyPath, int] = {}
    table: KeyPath = ()
    scanner = _ValueScanner()
    for number, line in enumerate(text.splitlines(), 1):
        if scanner.open:  # inside a multi-line string or array that started above
            scanner.scan(line)
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("["):
            table = _header_path(stripped)
            found.setdefault(table, number)
            continue
        key, _, value = _split_key(stripped)
        path = table + _key_path(key)
        found.setdefault(path, number)
        if value.lstrip().startswith("{"):
            for inner in _inline_paths(value.strip()):
                found.setdefault(path + inner, number)
        scanner.scan(value)
    return found


def key_line(lines: Mapping[KeyPath, int], path: Sequence[str]) -> int | None:
    """The line of ``path`` among ``lines`` (:func:`key_lines`), else of its longest recorded prefix (the array
    or table holding it); ``None`` when nothing of it is there."""
    for length in range(len(path), 0, -1):
        if tuple(path[:length]) in lines:
            return lines[tuple(path[:length])]
    return None


def _split_key(line: str) -> tuple[str, str, str]:
    """``key``, ``=``, ``value`` of a key/value line (the ``=`` outside quoted key segments)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
            elif char == "\\" and quote == '"':
                continue
        elif char in "\"'":
            quote = char
        elif char == "=":
            return line[:index], "=", line[index + 1 :]
    return line, "", ""


def _key_path(key: str) -> KeyPath:
    """The segments of a (dotted, possibly quoted) key, as ``tomllib`` reads them."""
    try:
        parsed = tomllib.loads(f"{key.strip()} = 0")
    except tomllib.TOMLDecodeError:
        return (key.strip(),)
    path: list[str] = []
    node: object = parsed
    while isinstance(node, dict) and len(node) == 1:
        name, node = next(iter(node.items()))
        path.append(name)
    return tuple(path)


def _header_path(line: str) -> KeyPath:
    inner = line.lstrip("[")
    quote, end = "", len(inner)
    for index, char in enumerate(inner):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "]":
            end = index
            break
    return _key_path(inner[:end])


def _inline_paths(value: str) -> list[KeyPath]:
    """The key paths inside an inline table value (``{ a = 1, b = { c = 2 } }``), relative to it."""
    try:
        parsed = tomllib.loads(f"x = {value}")["x"]
    except (tomllib.TOMLDecodeError, KeyError):
        return []
    paths: list[KeyPath] = []

    def walk(node: object, prefix: KeyPath) -> None:
        if isinstance(node, dict):
            for name, child in node.items():
                paths.append((*prefix, name))
                walk(child, (*prefix, name))

    walk(parsed, ())
    return paths


class _ValueScanner:
    """Follows a value across lines: open multi-line strings (``\"\"\"``, ``'''``) and brackets."""

    def __init__(self) -> None:
        self.string = ""  # the delimiter of an open multi-line string
        self.depth = 0  # open [ and { outside strings

    @property
    def open(self) -> bool:
        """True while the value continues on the next line."""
        return bool(self.string) or self.depth > 0

    def scan(self, text: str) -> None:
        """Advance over one line (or the value part of the key's line)."""
        index = 0
        while index < len(text):
            if self.string:
                end = _closing(text, index, self.string)
                if end < 0:
                    return
                index, self.string = end + len(self.string), ""
                continue
            char = text[index]
            if text.startswith(('"""', "'''"), index):
                self.string = text[index : index + 3]
                index += 3
            elif char in "\"'":
                end = _closing(text, index + 1, char)
                index = len(text) if end < 0 else end + 1
            elif char == "#":
                return
            else:
                self.depth += (char in "[{") - (char in "]}")
                index += 1


def _closing(text: str, start: int, delimiter: str) -> int:
    """Index of the ``delimiter`` closing a string from ``start`` (basic strings skip escaped characters), or -1."""
    index = start
    while index < len(text):
        if delimiter.startswith('"') and text[index] == "\\":
            index += 2
            continue
        if text.startswith(delimiter, index):
            return index
        index += 1
    return -1
