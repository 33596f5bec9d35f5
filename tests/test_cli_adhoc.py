"""``xlr adhoc``: a command line on the nodes a filter selects, stored as an execution (as ``rd adhoc``)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from tests.ssh_helpers import SshLab, key_node, write_project
from xlr_runtime.cli import main
from xlr_runtime.store import Store


def xlr(home: Path, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"XLR_HOME": str(home)})


def test_adhoc_runs_on_remote_nodes_and_is_stored_as_an_execution(ssh_lab: SshLab, tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_project(home, {name: key_node(ssh_lab, name) for name in ("n1", "n2", "n3")})
    result = xlr(home, "adhoc", "-p", "P", "-F", "tags: ssh", "-C", "3", "--follow", "--", "echo on", "$RD_NODE_NAME")
    assert result.exit_code == 0, result.output
    assert sorted(line for line in result.output.splitlines() if line.startswith("on ")) == [
        "on n1",
        "on n2",
        "on n3",
    ]
    listed = xlr(home, "executions", "-p", "P", "--json")
    (execution,) = json.loads(listed.output)
    assert (execution["job"]["name"], execution["job"]["id"], execution["status"]) == ("adhoc", None, "succeeded")
    with Store.open(home / "xlr.db") as store:
        assert sorted(store.executions.get(execution["id"]).succeeded_nodes) == ["n1", "n2", "n3"]


def test_adhoc_keepgoing_fails_with_the_failed_nodes_and_exit_code_1(ssh_lab: SshLab, tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_project(home, {name: key_node(ssh_lab, name) for name in ("n1", "n2")})
    command = "test $RD_NODE_NAME = n2"
    result = xlr(home, "adhoc", "-p", "P", "-F", "tags: ssh", "-K", "--", command)
    assert result.exit_code == 1, result.output
    assert "failed: Step 1 failed: Result: 1" in result.output
    with Store.open(home / "xlr.db") as store:
        execution = store.executions.get(1)
        assert (execution.failed_nodes, execution.succeeded_nodes) == (["n1"], ["n2"])


def test_adhoc_without_a_filter_runs_on_the_server_node(tmp_path: Path) -> None:
    result = xlr(tmp_path / "home", "adhoc", "-p", "P", "--follow", "--", "echo", "here")
    assert result.exit_code == 0, result.output
    assert "here" in result.output.splitlines()
