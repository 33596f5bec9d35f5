"""Resource-model files (resource-v13 XML and YAML) and the local server node.

The files are fixtures written for these tests (``tests/data/rundeck/nodes``); the tests marked ``corpus`` check
the same on real Rundeck resource files and skip (one reason) when the corpus is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import corpus, corpus_files
from tests.messages import PARSER_REASON, matches
from xlr_runtime.errors import ResourceModelError
from xlr_runtime.rundeck.nodes.properties import ProjectProperties
from xlr_runtime.rundeck.nodes.resources import (
    Node,
    load_resource_file,
    local_node,
    project_nodes,
    project_resources_dir,
    split_tags,
)
from xlr_runtime.rundeck.nodes.ssh.providers import executor_name

NODES = Path(__file__).parent / "data" / "rundeck" / "nodes"
#: A project without project.properties or framework.properties: providers come from the nodes and defaults.
NO_PROPERTIES = ProjectProperties()


@pytest.mark.parametrize("path", sorted(NODES.iterdir()), ids=lambda p: p.name)
def test_every_resource_file_loads(path: Path) -> None:
    nodes = load_resource_file(path)
    assert nodes
    assert all(node.name and node.source and node.source.startswith(f"{path}:") for node in nodes)


def test_xml_attributes_nested_attributes_and_text() -> None:
    path = NODES / "attributes.xml"
    (node,) = load_resource_file(path)
    assert node.name == "app1"
    assert node.source == f"{path}:4"  # the line of the <node> element
    assert node.tags == ("app", "blue")
    assert node.hostname == "app1.internal"
    assert (node.get("osName"), node.get("osFamily"), node.get("osArch"), node.get("osVersion")) == (
        "Linux",
        "unix",
        "x86_64",
        "6.1",
    )
    assert node.get("username") == "svc"
    assert node.get("editUrl") == "https://cmdb.invalid/app1/edit"
    assert node.get("remoteUrl") == "https://cmdb.invalid/app1"
    assert node.get("rack") == "r7"
    assert node.get("datacenter") == "west 2"
    assert node.get("owner") == "platform team"
    assert node.get("nodename") == "app1"
    assert "name" not in node.attributes and "tags" not in node.attributes


def test_xml_legacy_type_is_a_plain_attribute_and_username_is_optional() -> None:
    nodes = {node.name: node for node in load_resource_file(NODES / "fleet.xml")}
    assert sorted(nodes) == ["alder", "birch", "cedar"]
    assert nodes["birch"].get("type") == "Node"
    assert nodes["birch"].get("username") is None
    assert nodes["alder"].get("username") == "glenda"
    assert nodes["cedar"].tags == ("urgent", "edge")


def test_yaml_map_form_keeps_values_as_written() -> None:
    path = NODES / "ssh.yaml"
    nodes = {node.name: node for node in load_resource_file(path)}
    assert sorted(nodes) == ["cache-ssh", "db-ssh"]
    db = nodes["db-ssh"]
    assert db.source == f"{path}:2"  # the first line of the node's attributes
    assert nodes["cache-ssh"].source == f"{path}:13"
    assert db.tags == ("ssh", "database", "key-auth")
    assert db.get("node-executor") == "sshj-ssh"
    assert executor_name(db, NO_PROPERTIES) == "sshj-ssh"
    assert db.get("ssh-key-storage-path") == "keys/ops/db.key"
    assert db.get("description") == "Database host reached with a key"
    assert nodes["cache-ssh"].get("sudo-command-enabled") == "true"
    assert "db-ssh" not in db.attributes


@pytest.mark.corpus
@pytest.mark.parametrize("path", corpus_files("rundeck/nodes", "*"), ids=lambda p: p.name)
def test_every_corpus_resource_file_loads(path: Path) -> None:
    nodes = load_resource_file(path)
    assert nodes
    assert all(node.name and node.source and node.source.startswith(f"{path}:") for node in nodes)


@pytest.mark.corpus
def test_corpus_xml_attributes_nested_attributes_and_text() -> None:
    (node,) = load_resource_file(corpus("rundeck", "nodes", "test-resources.xml"))
    assert node.name == "node1"
    assert node.tags == ("tag1", "tag2")
    assert node.hostname == "hostname1"
    assert node.get("osFamily") == "osFamily1"
    assert node.get("editUrl") == "EditURL"
    assert node.get("testattribute") == "testvalue"
    assert node.get("testattribute2") == "test value2"
    assert node.get("testattribute3") == "test value3"
    assert node.get("nodename") == "node1"


@pytest.mark.corpus
def test_corpus_xml_legacy_type_is_a_plain_attribute_and_username_is_optional() -> None:
    nodes = {node.name: node for node in load_resource_file(corpus("rundeck", "nodes", "test-dispatch-nodes.xml"))}
    assert sorted(nodes) == ["cheat", "homestar", "strongbad"]
    assert nodes["cheat"].get("type") == "Node"
    assert nodes["cheat"].get("username") is None
    assert nodes["strongbad"].tags == ("priority1", "elf")


@pytest.mark.corpus
def test_corpus_yaml_map_form_keeps_values_as_written() -> None:
    nodes = {node.name: node for node in load_resource_file(corpus("rundeck", "nodes", "sshj-node.yaml"))}
    assert sorted(nodes) == ["password-node", "ssh-node"]
    ssh = nodes["ssh-node"]
    assert ssh.tags == ("executor-test", "ssh-node", "auth-method-key")
    assert ssh.get("node-executor") == "sshj-ssh"
    assert executor_name(ssh, NO_PROPERTIES) == "sshj-ssh"
    assert nodes["password-node"].get("sudo-command-enabled") == "true"


def test_yaml_list_form_tag_lists_and_scalars(tmp_path: Path) -> None:
    path = tmp_path / "nodes.yaml"
    path.write_text(
        "- nodename: bartholemew\n  hostname: bartholemew\n  tags: [' web', app]\n  app-port: 8080\n  flag: true\n"
        "- Homestar.local:\n  nodename: Homestar.local\n  tags: 'redis_server, production'\n"
    )
    first, second = load_resource_file(path)
    assert (first.name, first.tags, first.get("app-port"), first.get("flag")) == (
        "bartholemew",
        ("web", "app"),
        "8080",
        "true",
    )
    assert (second.name, second.tags) == ("Homestar.local", ("redis_server", "production"))
    assert "Homestar.local" not in second.attributes
    assert executor_name(first, NO_PROPERTIES) == "jsch-ssh"


def test_node_context_uses_rundeck_names() -> None:
    node = Node(name="web1", attributes={"hostname": "h", "osFamily": "unix", "role": "db"}, tags=("a", "b"))
    assert node.context() == {
        "name": "web1",
        "hostname": "h",
        "username": "",
        "description": "",
        "os-family": "unix",
        "role": "db",
        "tags": "a,b",
    }


def test_local_node() -> None:
    node = local_node(name="server1")
    assert node.name == "server1"
    assert executor_name(node, NO_PROPERTIES) == "local"
    assert node.get("description") == "Rundeck server node"
    assert node.get("osFamily") == "unix"
    assert node.source is None


def test_split_tags() -> None:
    assert split_tags(" a, b ,,a ") == ("a", "b")
    assert split_tags(None) == ()


def test_project_nodes_merges_files_in_name_order(tmp_path: Path) -> None:
    folder = project_resources_dir(tmp_path, "P")
    folder.mkdir(parents=True)
    (folder / "a.xml").write_text('<project><node name="n1" hostname="one"/><node name="n2"/></project>')
    (folder / "b.yaml").write_text("n1:\n  hostname: two\n")
    (folder / "notes.txt").write_text("ignored")
    nodes = project_nodes(tmp_path, "P", server=local_node(name="srv"))
    assert list(nodes) == ["srv", "n1", "n2"]
    assert nodes["n1"].hostname == "two"
    assert list(project_nodes(tmp_path, "other", server=local_node(name="srv"))) == ["srv"]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.xml", "<project>\n<node hostname='x'/></project>", "bad.xml:2: node without a name"),
        ("bad.xml", "<nodes/>", "bad.xml:1: root element is <nodes>, expected <project>"),
        ("bad.xml", "<project>\n\n<host/></project>", "bad.xml:3: unexpected element <host> in <project>"),
        (
            "bad.xml",
            "<project><node name='a'>\n<attr/></node></project>",
            "bad.xml:2: unexpected element <attr> in <node> (expected <attribute name=…>)",
        ),
        ("bad.xml", "<project>\n<node", "bad.xml:2: not well-formed XML: " + PARSER_REASON),
        ("bad.yaml", "a:\n  hostname: x\nb: [1]\n", "bad.yaml:3: node 'b' is not a map of attributes"),
        ("bad.yaml", "- hostname: x\n", "bad.yaml:1: node without a nodename"),
        ("bad.yaml", "a:\n  hostname: [x]\n", "bad.yaml:2: expected a plain value, found a map or a list"),
        ("bad.yaml", "just text", "bad.yaml:1: expected a map of node names or a list of nodes"),
        ("bad.yaml", "a: [\n", "bad.yaml:2: not valid YAML: " + PARSER_REASON),
        ("bad.yaml", "a:\n  hostname: \0\n", "bad.yaml:2: not valid YAML: " + PARSER_REASON),
        ("bad.xml", "<project>\n<node>\0</node>", "bad.xml:2: not well-formed XML: " + PARSER_REASON),
        ("bad.json", "{}", "bad.json: unknown resource-model format '.json' (use .xml, .yaml or .yml)"),
    ],
)
def test_errors_are_located(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ResourceModelError) as info:
        load_resource_file(path)
    assert matches(str(info.value), f"{tmp_path}/{message}"), str(info.value)
