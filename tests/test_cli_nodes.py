"""``xlr nodes``: a project's nodes from its resource-model files, narrowed by a node filter.

The resource files are fixtures written for these tests (``tests/data/rundeck/nodes``); the tests marked
``corpus`` list real Rundeck resource files and skip (one reason) when the corpus is absent.
"""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.corpus import corpus
from xlr_runtime.cli import main
from xlr_runtime.home import Home
from xlr_runtime.rundeck.nodes.resources import project_resources_dir

NODES = Path(__file__).parent / "data" / "rundeck" / "nodes"
SERVER = socket.gethostname()
SERVER_LINE = f"{SERVER}  {SERVER}  local  (server node)"


def xlr(home: Home, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"XLR_HOME": str(home.root)})


def _resources(home: Home, project: str, folder: Path, *names: str) -> Path:
    resources = project_resources_dir(home.root, project)
    resources.mkdir(parents=True)
    for name in names:
        shutil.copy(folder / name, resources / name)
    return resources


def test_a_project_without_resource_files_has_the_server_node(home: Home) -> None:
    result = xlr(home, "nodes", "-p", "empty")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [SERVER_LINE]


def test_nodes_of_xml_and_yaml_resource_files_in_name_order(home: Home) -> None:
    folder = _resources(home, "ops", NODES, "attributes.xml", "ssh.yaml")
    result = xlr(home, "nodes", "-p", "ops")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line for line in lines if line != SERVER_LINE] == [
        f"app1  app1.internal  jsch-ssh  [app, blue]  ({folder / 'attributes.xml'}:4)",  # no node-executor: SSH
        f"cache-ssh  cache.internal  sshj-ssh  [ssh, cache, password-auth]  ({folder / 'ssh.yaml'}:13)",
        f"db-ssh  db.internal  sshj-ssh  [ssh, database, key-auth]  ({folder / 'ssh.yaml'}:2)",
    ]
    assert SERVER_LINE in lines
    assert [line.split()[0] for line in lines] == sorted(line.split()[0] for line in lines)


def test_filter_as_jobs_use_it(home: Home) -> None:
    _resources(home, "ops", NODES, "attributes.xml", "ssh.yaml")
    tagged = xlr(home, "nodes", "-p", "ops", "--filter", "tags: ssh+key-auth")
    assert [line.split()[0] for line in tagged.output.splitlines()] == ["db-ssh"]
    excluded = xlr(home, "nodes", "-p", "ops", "-F", ".* !tags: ssh", "--json")
    assert sorted(node["name"] for node in json.loads(excluded.output)) == sorted(["app1", SERVER])
    nothing = xlr(home, "nodes", "-p", "ops", "-F", "name: nowhere")
    assert (nothing.exit_code, nothing.stdout) == (0, "")
    assert (
        nothing.stderr
        == f"No node matches the filter (resource-model files: {project_resources_dir(home.root, 'ops')})\n"
    )


def test_json_carries_attributes_executor_and_source(home: Home) -> None:
    _resources(home, "ops", NODES, "ssh.yaml")
    (node,) = [n for n in json.loads(xlr(home, "nodes", "-p", "ops", "--json").output) if n["name"] == "db-ssh"]
    assert (node["executor"], node["attributes"]["hostname"], node["source"].endswith("ssh.yaml:2")) == (
        "sshj-ssh",
        "db.internal",
        True,
    )


@pytest.mark.corpus
def test_corpus_nodes_of_xml_and_yaml_resource_files_in_name_order(home: Home) -> None:
    folder = _resources(home, "ops", corpus("rundeck", "nodes"), "test-resources.xml", "sshj-node.yaml")
    result = xlr(home, "nodes", "-p", "ops")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line for line in lines if line != SERVER_LINE] == [
        f"node1  hostname1  jsch-ssh  [tag1, tag2]  ({folder / 'test-resources.xml'}:28)",
        f"password-node  ssh-node  sshj-ssh  [executor-test, ssh-node, auth-method-password]  "
        f"({folder / 'sshj-node.yaml'}:13)",
        f"ssh-node  ssh-node  sshj-ssh  [executor-test, ssh-node, auth-method-key]  ({folder / 'sshj-node.yaml'}:2)",
    ]
    assert SERVER_LINE in lines
    assert [line.split()[0] for line in lines] == sorted(line.split()[0] for line in lines)


@pytest.mark.corpus
def test_corpus_filter_as_jobs_use_it(home: Home) -> None:
    _resources(home, "ops", corpus("rundeck", "nodes"), "test-resources.xml", "sshj-node.yaml")
    tagged = xlr(home, "nodes", "-p", "ops", "--filter", "tags: executor-test+auth-method-key")
    assert [line.split()[0] for line in tagged.output.splitlines()] == ["ssh-node"]
    excluded = xlr(home, "nodes", "-p", "ops", "-F", ".* !tags: executor-test", "--json")
    assert sorted(node["name"] for node in json.loads(excluded.output)) == sorted(["node1", SERVER])


def test_a_bad_resource_file_is_one_located_line(home: Home) -> None:
    folder = project_resources_dir(home.root, "ops")
    folder.mkdir(parents=True)
    (folder / "bad.xml").write_text("<project>\n<node hostname='x'/></project>")
    result = xlr(home, "nodes", "-p", "ops")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith(f"Error: {folder / 'bad.xml'}:2: ")


def test_the_executor_shown_follows_the_project_default(home: Home) -> None:
    resources = home.root / "projects" / "ops" / "resources"
    resources.mkdir(parents=True)
    (resources / "n.yaml").write_text("plain: {hostname: plain.internal}\nown: {hostname: own, node-executor: local}\n")
    etc = home.root / "projects" / "ops" / "etc"
    etc.mkdir()
    (etc / "project.properties").write_text("service.NodeExecutor.default.provider=sshj-ssh\n")
    result = xlr(home, "nodes", "-p", "ops", "--json")
    assert result.exit_code == 0, result.output
    executors = {node["name"]: node["executor"] for node in json.loads(result.output)}
    assert (executors["plain"], executors["own"]) == ("sshj-ssh", "local")
