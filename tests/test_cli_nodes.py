"""``xlr nodes``: a project's nodes from its resource-model files (the corpus's), narrowed by a node filter."""

from __future__ import annotations

import json
import shutil
import socket

from click.testing import CliRunner, Result

from tests.conftest import CORPUS
from xlr_runtime.cli import main
from xlr_runtime.home import Home
from xlr_runtime.rundeck.nodes import project_resources_dir

NODES = CORPUS / "rundeck" / "nodes"
SERVER = socket.gethostname()


def xlr(home: Home, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"XLR_HOME": str(home.root)})


def _resources(home: Home, project: str, *names: str) -> None:
    folder = project_resources_dir(home.root, project)
    folder.mkdir(parents=True)
    for name in names:
        shutil.copy(NODES / name, folder / name)


def test_a_project_without_resource_files_has_the_server_node(home: Home) -> None:
    result = xlr(home, "nodes", "-p", "empty")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"{SERVER}  {SERVER}  local  (server node)"]


def test_nodes_of_xml_and_yaml_resource_files_in_name_order(home: Home) -> None:
    _resources(home, "ops", "test-resources.xml", "sshj-node.yaml")
    folder = project_resources_dir(home.root, "ops")
    result = xlr(home, "nodes", "-p", "ops")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:3] == [
        f"node1  hostname1  jsch-ssh  [tag1, tag2]  ({folder / 'test-resources.xml'}:28)",
        f"password-node  ssh-node  sshj-ssh  [executor-test, ssh-node, auth-method-password]  "
        f"({folder / 'sshj-node.yaml'}:13)",
        f"ssh-node  ssh-node  sshj-ssh  [executor-test, ssh-node, auth-method-key]  ({folder / 'sshj-node.yaml'}:2)",
    ]
    assert f"{SERVER}  {SERVER}  local  (server node)" in lines


def test_filter_as_jobs_use_it(home: Home) -> None:
    _resources(home, "ops", "test-resources.xml", "sshj-node.yaml")
    tagged = xlr(home, "nodes", "-p", "ops", "--filter", "tags: executor-test+auth-method-key")
    assert [line.split()[0] for line in tagged.output.splitlines()] == ["ssh-node"]
    excluded = xlr(home, "nodes", "-p", "ops", "-F", ".* !tags: executor-test", "--json")
    assert sorted(node["name"] for node in json.loads(excluded.output)) == sorted(["node1", SERVER])
    nothing = xlr(home, "nodes", "-p", "ops", "-F", "name: nowhere")
    assert (nothing.exit_code, nothing.stdout) == (0, "")
    assert (
        nothing.stderr
        == f"No node matches the filter (resource-model files: {project_resources_dir(home.root, 'ops')})\n"
    )


def test_json_carries_attributes_executor_and_source(home: Home) -> None:
    _resources(home, "ops", "sshj-node.yaml")
    (node,) = [n for n in json.loads(xlr(home, "nodes", "-p", "ops", "--json").output) if n["name"] == "ssh-node"]
    assert (node["executor"], node["attributes"]["hostname"], node["source"].endswith("sshj-node.yaml:2")) == (
        "sshj-ssh",
        "ssh-node",
        True,
    )


def test_a_bad_resource_file_is_one_located_line(home: Home) -> None:
    folder = project_resources_dir(home.root, "ops")
    folder.mkdir(parents=True)
    (folder / "bad.xml").write_text("<project>\n<node hostname='x'/></project>")
    result = xlr(home, "nodes", "-p", "ops")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith(f"Error: {folder / 'bad.xml'}:2: ")
