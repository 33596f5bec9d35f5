"""Stock remote-host types of XL Release's built-in plugins, as data in synthetic/ (issue 13, item 6).

The ``remote-hosts`` test plugin references ``host.Unix``, ``remoteScript.HttpProxy`` and ``overthere.Host`` with
``kind="ci"``, extends ``overthere.SshHost`` and modifies ``overthere.CifsHost``; its script reads the CIs as
dicts. Runs go through ``xlr run`` from an unrelated working folder and through the test harness.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from task_helpers import XLR_COMMAND

from xlr_runtime.cli import main
from xlr_runtime.home import Home
from xlr_runtime.testing.harness import TaskHarness
from xlr_runtime.typesystem.registry import load_registry

PLUGIN = Path(__file__).parent / "data" / "plugins" / "remote-hosts"

STOCK = {
    "overthere.Host": ("xlrelease.Configuration", True),
    "overthere.LocalHost": ("overthere.Host", False),
    "overthere.SshHost": ("overthere.Host", False),
    "overthere.CifsHost": ("overthere.Host", False),
    "overthere.SmbHost": ("overthere.CifsHost", False),
    "host.Unix": ("overthere.SshHost", False),
    "host.Windows": ("overthere.CifsHost", False),
    "remoteScript.Jumpstation": ("xlrelease.Configuration", True),
    "remoteScript.SshJumpstation": ("remoteScript.Jumpstation", False),
    "remoteScript.HttpProxy": ("remoteScript.Jumpstation", False),
}

TOML = """\
[ci.box]
type = "host.Unix"
address = "10.0.0.5"
username = "deploy"
password = { env = "BOX_PASSWORD" }

[ci.proxy]
type = "remoteScript.HttpProxy"
address = "proxy.local"

[ci.win]
type = "overthere.SmbHost"
address = "win1"
"""

SUMMARY = "deploy@10.0.0.5:22 SFTP UNIX via proxy.local:8080 | win1:5985 WINRM_INTERNAL north"


def test_every_stock_host_type_loads_from_base_data() -> None:
    registry = load_registry()
    for name, (parent, virtual) in STOCK.items():
        loaded = registry.get(name)
        assert (loaded.parent, loaded.virtual, loaded.plugin) == (parent, virtual, "base"), name
    ssh = registry.get("host.Unix").properties
    assert (ssh["port"].default, ssh["connectionType"].default, ssh["os"].default) == (22, "SFTP", "UNIX")
    assert ssh["password"].password and ssh["passphrase"].password
    assert registry.get("host.Windows").properties["os"].default == "WINDOWS"
    assert registry.get("remoteScript.HttpProxy").properties["port"].default == 8080
    jump = registry.get("remoteScript.Unix").properties["jumpstation"]
    assert (jump.kind.value, jump.referenced_type, jump.required) == ("ci", "remoteScript.Jumpstation", False)


def test_a_plugin_that_references_them_checks_clean(home: Home) -> None:
    result = CliRunner().invoke(main, ["check", str(PLUGIN), "--home", str(home.root)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "ok: 1 plugin, 1 script checked, no problems"


def test_xlr_run_reads_host_cis_from_another_folder(tmp_path: Path, home: Home) -> None:
    home.config_file.write_text(TOML)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cis = ["--ci", "host=box", "--ci", "proxy=proxy", "--ci", "windows=win"]
    result = subprocess.run(
        [*XLR_COMMAND, "run", "remotes.Describe", *cis, "--home", str(home.root), "--plugins", str(PLUGIN)],
        cwd=elsewhere,
        env={**os.environ, "BOX_PASSWORD": "pw"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"summary = {SUMMARY!r}\n"


def test_a_ci_of_the_wrong_host_type_is_refused(home: Home) -> None:
    home.config_file.write_text(TOML)
    result = CliRunner().invoke(
        main, ["run", "remotes.Describe", "--ci", "host=win", "--home", str(home.root), "--plugins", str(PLUGIN)]
    )
    assert result.exit_code == 1
    assert "CI 'win' is a overthere.SmbHost, not a host.Unix" in result.stderr


@pytest.mark.parametrize("via_proxy", [True, False])
def test_the_harness_runs_it(tmp_path: Path, via_proxy: bool) -> None:
    with TaskHarness(tmp_path / "home", plugin_paths=[PLUGIN]) as harness:
        harness.ci("box", "host.Unix", address="10.0.0.5", username="deploy", port=2222)
        harness.ci("proxy", "remoteScript.HttpProxy", address="proxy.local")
        inputs = {"host": "box", **({"proxy": "proxy"} if via_proxy else {})}
        outcome = harness.run("remotes.Describe", inputs)
    assert outcome.status == "completed", outcome.log_text
    route = "via proxy.local:8080" if via_proxy else "direct"
    assert outcome.outputs == {"summary": f"deploy@10.0.0.5:2222 SFTP UNIX {route}"}
