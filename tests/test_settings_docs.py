"""docs/settings.md documents every setting of the settings table, with its default."""

from __future__ import annotations

import re
from pathlib import Path

from xlr_runtime.settings import SETTINGS

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def test_every_setting_is_documented_with_its_default() -> None:
    rows = dict(re.findall(r"^\| `([\w.]+)` \| `([^`]*)`", DOCS.read_text(encoding="utf-8"), flags=re.M))
    assert set(rows) == {s.name for s in SETTINGS}
    for setting in SETTINGS:
        assert rows[setting.name] == str(setting.default), setting.name
