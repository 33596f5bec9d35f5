"""Issue 12, defect 6: a status line and each output value are capped like the task log (settings
``scripts.max_status_line_bytes`` and ``scripts.max_property_bytes``), the cut marked in the value and noted in
the log. Real worker processes run rel/Big.py, which sets 10 MB of each."""

from __future__ import annotations

import json

import pytest
from serve_helpers import RELIABILITY_PLUGIN

from xlr_runtime.clock import VirtualClock
from xlr_runtime.errors import ConfigError
from xlr_runtime.home import Home
from xlr_runtime.runtime import Runtime
from xlr_runtime.store import TaskStatus

MB10 = 10 * 1024 * 1024


def test_a_10_mb_status_line_and_outputs_are_cut_to_their_settings(home: Home) -> None:
    with Runtime(home, plugin_paths=[RELIABILITY_PLUGIN], clock=VirtualClock()) as runtime:
        task = runtime.drive(runtime.create_task("rel.Big").id)
        log = [line.text for line in runtime.store.tasks.log(task.id)]
        row = runtime.store.query_one(
            "SELECT length(status_line) AS status, length(properties) AS properties FROM tasks WHERE id = ?",
            [int(task.id)],
        )
    assert task.status is TaskStatus.COMPLETED, (task.failure, log)
    status_marker = f" [truncated: {MB10} bytes; scripts.max_status_line_bytes is 16384]"
    assert task.status_line == "s" * (16384 - len(status_marker)) + status_marker
    result_marker = f" [truncated: {MB10} bytes; scripts.max_property_bytes is 1048576]"
    assert task.properties["result"] == "r" * (1048576 - len(result_marker)) + result_marker
    *whole, cut = task.properties["items"]
    assert whole == ["i" * 999] * len(whole) and 1000 < len(whole) < 1049
    assert cut.startswith("i") and cut.endswith(" [truncated: 999 bytes; scripts.max_property_bytes is 1048576]")
    assert row == {"status": 16384, "properties": pytest.approx(2 * 1048576, rel=0.01)}
    assert log == [
        f"Warning: the status line of {MB10} bytes was cut to 16384 bytes (scripts.max_status_line_bytes).",
        f"Warning: property 'result' of {MB10} bytes was cut to 1048576 bytes (scripts.max_property_bytes).",
        f"Warning: property 'items' of {10485 * 1002 + 1} bytes (10485 items) was cut to its first {len(whole) + 1} "
        "items (scripts.max_property_bytes is 1048576 bytes).",
    ]


def test_the_caps_are_settings(home: Home) -> None:
    home.config_file.write_text(
        '[settings]\n"scripts.max_status_line_bytes" = 300\n"scripts.max_property_bytes" = 4000\n', encoding="utf-8"
    )
    with Runtime(home, plugin_paths=[RELIABILITY_PLUGIN], clock=VirtualClock()) as runtime:
        task = runtime.drive(runtime.create_task("rel.Big", {"size": "5000"}).id)
    assert task.status is TaskStatus.COMPLETED, task.failure
    assert len(task.status_line or "") == 300 and task.status_line.endswith("scripts.max_status_line_bytes is 300]")  # type: ignore[union-attr]
    assert len(task.properties["result"]) == 4000
    *whole, cut = task.properties["items"]
    assert whole == ["i" * 999] * 3 and cut.endswith("scripts.max_property_bytes is 4000]")
    assert len(json.dumps(task.properties["items"], separators=(",", ":"))) <= 4000
    with Runtime(home, plugin_paths=[RELIABILITY_PLUGIN], clock=VirtualClock()) as runtime:
        task = runtime.drive(runtime.create_task("rel.Big", {"size": "250"}).id)
    assert (task.status_line, task.properties["result"], task.properties["items"]) == ("s" * 250, "r" * 250, [])


def test_a_cap_below_256_bytes_is_a_start_up_error(home: Home) -> None:
    home.config_file.write_text('[settings]\n"scripts.max_property_bytes" = 10\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"xlr.toml:2: setting 'scripts.max_property_bytes' must be at least 256"):
        Runtime(home, plugin_paths=[RELIABILITY_PLUGIN])
