"""``xlr task show`` of a task whose type is not loaded shows the stored values, secrets masked (issue 13, item 11).

The ``stored-values`` test plugin has a password input and a password output; the task runs with the plugin and
is shown without it, from an unrelated working folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from xlr_runtime.cli import main
from xlr_runtime.home import Home
from xlr_runtime.store import Store

PLUGIN = Path(__file__).parent / "data" / "plugins" / "stored-values"
SECRET = "p4ss-canary"
MASK = "********"


def xlr(home: Home, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--home", str(home.root)])


@pytest.fixture
def ran(home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    inputs = ["-i", "user=ann", "-i", f"password={SECRET}", "-i", "labels=team:ops"]
    result = xlr(home, "run", "stored.Login", *inputs, "--plugins", str(PLUGIN))
    assert result.exit_code == 0, result.output
    return home


def test_show_without_the_plugin_prints_stored_values_with_passwords_masked(ran: Home) -> None:
    result = xlr(ran, "task", "show", "1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        "Task 1: stored.Login (stored.Login)",
        "  note:        type stored.Login is not loaded (name its plugin in plugins.path of xlr.toml, or give "
        "--plugins): values as stored, possible secrets masked",
    ]
    assert "    user = 'ann'" in lines
    assert f"    password = '{MASK}'" in lines
    assert f"    session = '{MASK}'" in lines
    assert "    greeting = 'hi ann'" in lines
    assert "    retries = 2" in lines
    assert "    labels = {'team': 'ops'}" in lines
    assert SECRET not in result.output and SECRET[::-1] not in result.output
    assert "(plugin not loaded)" not in result.output


def test_show_json_without_the_plugin(ran: Home) -> None:
    result = xlr(ran, "task", "show", "1", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["type_loaded"] is False
    assert shown["properties"]["password"] == shown["properties"]["session"] == MASK
    assert (shown["properties"]["user"], shown["properties"]["greeting"]) == ("ann", "hi ann")
    assert SECRET not in result.stdout


def test_show_with_the_plugin_has_no_note(ran: Home) -> None:
    result = xlr(ran, "task", "show", "1", "--plugins", str(PLUGIN))
    assert result.exit_code == 0, result.output
    assert "not loaded" not in result.stdout
    assert f"    password = '{MASK}'" in result.stdout.splitlines()
    assert "type_loaded" not in xlr(ran, "task", "show", "1", "--plugins", str(PLUGIN), "--json").stdout


def test_unsealed_values_of_secret_looking_names_are_masked(home: Home) -> None:
    # an older database kept passwords in clear: without the type, only the name can tell
    with Store.open(home.database) as store:
        store.tasks.create(
            type_name="gone.Type",
            title="old task",
            properties={"apiToken": "clear-token", "dbPassword": "clear-pw", "host": "db1", "secretKey": None},
            inputs={},
            variables={},
            first_script="gone/Type.py",
            now=0.0,
        )
    result = xlr(home, "task", "show", "1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert f"    apiToken = '{MASK}'" in lines and f"    dbPassword = '{MASK}'" in lines
    assert "    host = 'db1'" in lines and "    secretKey = None" in lines
    assert "clear-" not in result.stdout
