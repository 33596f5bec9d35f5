"""The copy of fissix's Python 2 name tables (``xlr_runtime.compat.py2_names``) equals what fissix gives."""

from __future__ import annotations

from fissix.fixes.fix_imports import MAPPING as FISSIX_RENAMED
from fissix.fixes.fix_urllib import MAPPING as FISSIX_URLLIB

from xlr_runtime.compat import py2_names


def _listing(names: frozenset[str] | set[str]) -> str:
    return "\n".join(f'        "{name}",' for name in sorted(names))


def test_renamed_modules_are_fissix_s() -> None:
    expected = set(FISSIX_RENAMED)
    assert expected == py2_names.RENAMED_MODULES, f"RENAMED_MODULES is now:\n{_listing(expected)}"


def test_moved_urllib_names_are_fissix_s() -> None:
    expected = {name for _, names in FISSIX_URLLIB["urllib"] for name in names}
    assert expected == py2_names.URLLIB_MOVED_NAMES, f"URLLIB_MOVED_NAMES is now:\n{_listing(expected)}"
