"""A project's nodes through Rundeck's resources API against a real ``xlr serve``: JSON, YAML and XML resource
models, one node by name, and the node filter jobs use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from lxml import etree

from tests.http_helpers import Api
from tests.rundeck_client import Rundeck, served_rundeck
from xlr_runtime.rundeck.nodes.resources import load_resource_file, project_resources_dir

NODES = """\
web1:
  hostname: web1.example.com
  tags: web, prod
  osFamily: unix
web2:
  hostname: web2.example.com
  tags: web
db1:
  hostname: db1.example.com
  tags: db
  rack: r7
  ssh:port: '2222'
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Rundeck]]:
    for api, client in served_rundeck(tmp_path_factory.mktemp("rundeck-resources"), "ops"):
        folder = project_resources_dir(api.home, "ops")
        folder.mkdir(parents=True)
        (folder / "nodes.yaml").write_text(NODES, encoding="utf-8")
        yield api, client


def test_the_projects_nodes_in_rundecks_json(served: tuple[Api, Rundeck]) -> None:
    _, rundeck = served
    nodes = rundeck.get("/project/ops/resources")
    server = rundeck.get("/system/info")["system"]["rundeck"]["node"]
    assert sorted(nodes) == sorted([server, "web1", "web2", "db1"])
    assert nodes["web1"] == {
        "nodename": "web1",
        "hostname": "web1.example.com",
        "osFamily": "unix",
        "tags": "web, prod",
    }
    assert (nodes["db1"]["rack"], nodes["db1"]["ssh:port"]) == ("r7", "2222")


def test_the_node_filter_narrows_the_nodes(served: tuple[Api, Rundeck]) -> None:
    _, rundeck = served
    assert sorted(rundeck.get("/project/ops/resources", filter="tags: web")) == ["web1", "web2"]
    assert sorted(rundeck.get("/project/ops/resources", filter="tags: web+prod")) == ["web1"]
    assert sorted(rundeck.get("/project/ops/resources", tags="web", **{"exclude-name": "web2"})) == ["web1"]
    assert sorted(rundeck.get("/project/ops/resources", filter="rack: r7")) == ["db1"]
    assert rundeck.get("/project/ops/resources", filter="name: nothing.*") == {}


def test_yaml_and_xml_read_back_as_the_same_nodes(served: tuple[Api, Rundeck], tmp_path: Path) -> None:
    _, rundeck = served
    as_json = rundeck.get("/project/ops/resources", filter="tags: web,db")
    assert sorted(as_json) == ["db1", "web1", "web2"]
    as_yaml = rundeck.call("GET", "/project/ops/resources", params={"format": "yaml", "filter": "tags: web,db"})
    assert as_yaml.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(as_yaml.text) == as_json
    as_xml = rundeck.call(
        "GET", "/project/ops/resources", params={"filter": "tags: web,db"}, headers={"Accept": "application/xml"}
    )
    root = etree.fromstring(as_xml.content)
    assert root.tag == "project" and [n.get("name") for n in root.findall("node")] == ["db1", "web1", "web2"]
    path = tmp_path / "back.xml"
    path.write_bytes(as_xml.content)
    back = {
        node.name: {**node.attributes, "tags": ", ".join(node.tags)}
        for node in load_resource_file(tmp_path / "back.xml")
    }
    assert back == as_json


def test_one_node_by_name_and_the_errors(served: tuple[Api, Rundeck]) -> None:
    _, rundeck = served
    assert rundeck.get("/project/ops/resource/db1") == {"db1": rundeck.get("/project/ops/resources")["db1"]}
    one = rundeck.call("GET", "/project/ops/resource/web2", params={"format": "resourceyaml"})
    assert yaml.safe_load(one.text)["web2"]["hostname"] == "web2.example.com"
    missing = rundeck.call("GET", "/project/ops/resource/nope")
    assert missing.status_code == 404 and missing.json()["message"] == "Node does not exist: nope"
    assert rundeck.call("GET", "/project/nope/resources").status_code == 404
    bad = rundeck.call("GET", "/project/ops/resources", params={"format": "csv"})
    assert bad.status_code == 400 and "format" in bad.json()["message"]
