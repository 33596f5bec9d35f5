"""Helpers for type-system tests: write synthetic.xml plugins (folders and archives) into tmp_path."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pluggy

from xlr_runtime.plugins import build_plugin_manager

HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n<synthetic xmlns="http://www.xebialabs.com/deployit/synthetic">\n'
FOOTER = "</synthetic>\n"


def synthetic(body: str) -> str:
    """A synthetic.xml document; ``body`` starts on line 3."""
    return HEADER + body + FOOTER


def write_plugin(folder: Path, body: str, scripts: dict[str, str] | None = None) -> Path:
    """A plugin folder with synthetic.xml (body from line 3) and scripts at relative paths."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "synthetic.xml").write_text(synthetic(body), encoding="utf-8")
    for relative, text in (scripts or {}).items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return folder


def write_archive(path: Path, body: str | None, scripts: dict[str, str] | None = None) -> Path:
    """A .jar/.zip plugin; ``body=None`` leaves synthetic.xml out."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        if body is not None:
            archive.writestr("synthetic.xml", synthetic(body))
        for relative, text in (scripts or {}).items():
            archive.writestr(relative, text)
    return path


def fresh_pm(*plugins: object) -> pluggy.PluginManager:
    """A plugin manager with the built-in plugins, no installed ones, plus ``plugins``."""
    pm = build_plugin_manager(load_installed=False)
    for plugin in plugins:
        pm.register(plugin)
    return pm


TASK = """  <type type="demo.Task" extends="xlrelease.PythonScript" virtual="true">
    <property name="server" category="input" kind="ci" referenced-type="demo.Server"/>
  </type>
  <type type="demo.Server" extends="configuration.HttpConnection"/>
  <type type="demo.Run" extends="demo.Task">
    <property name="count" category="input" kind="integer" default="3"/>
    <property name="result" category="output"/>
  </type>
"""
