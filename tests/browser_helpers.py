"""A real headless Chromium for the dashboard's end-to-end tests, driven with Playwright for Python.

Playwright's own browser download cannot work here, so the browser is Debian's ``chromium`` package, launched
through ``executable_path``. Without it (or without the ``playwright`` package) the tests skip with one reason;
under ``CI=true`` they fail instead, since CI must run them (``.ci/run`` installs chromium when it is missing).
Screenshots go to ``$XLR_ARTIFACTS/dashboard`` when that is set, else to the test's temporary folder; the test
prints where.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
#: Chromium's switches for a sandboxed CI container with no network beyond loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
#: The two widths every page is looked at: a desktop and a phone.
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium_binary() -> str | None:
    """Debian's chromium, or ``None`` when it is not installed."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return found or next((c for c in CHROMIUM_CANDIDATES if os.access(c, os.X_OK)), None)


def require_browser() -> str:
    """The chromium executable once Playwright can drive it, or skip (fail under ``CI=true``) with one reason."""
    binary = chromium_binary()
    missing = []
    if binary is None:
        missing.append("chromium is not installed (Debian: apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        missing.append("playwright is not installed (pip install -e '.[test]')")
    if missing:
        reason = "; ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run the browser tests (.ci/run installs chromium)")
        pytest.skip(reason=reason)
    assert binary is not None
    return binary


def artifacts_folder(tmp_path: Path) -> Path:
    """Where screenshots go: ``$XLR_ARTIFACTS/dashboard``, else the test's temporary folder."""
    base = os.environ.get("XLR_ARTIFACTS")
    folder = Path(base) / "dashboard" if base else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
