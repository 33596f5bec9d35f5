"""Node filters as Rundeck parses and applies them (NodeSet, 11-node-filters.md), and dispatch order.

The dispatch node set is a fixture written for these tests (``tests/data/rundeck/nodes/fleet.xml``); the test
marked ``corpus`` applies filters to a real Rundeck resource file and skips (one reason) when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import corpus
from xlr_runtime.errors import NodeFilterError
from xlr_runtime.rundeck.jobs.quoting import shell_quote, tokenize
from xlr_runtime.rundeck.nodes.nodefilter import (
    NodeFilter,
    combine_filters,
    matches_tags,
    matches_value,
    order_nodes,
    parse_filter,
    select_nodes,
)
from xlr_runtime.rundeck.nodes.resources import Node, load_resource_file

FLEET = Path(__file__).parent / "data" / "rundeck" / "nodes" / "fleet.xml"
WEB = [
    Node(name="web1", attributes={"hostname": "dev1.example.com", "role": "web"}, tags=("www", "prod")),
    Node(name="web2", attributes={"hostname": "dev2.example.com", "role": "web"}, tags=("www",)),
    Node(name="db1", attributes={"hostname": "db.example.com", "role": "db"}, tags=("prod", "db")),
    Node(name="mynode1", attributes={"hostname": "m1"}),
    Node(name="mynode2", attributes={"hostname": "m2"}),
]


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ('echo "a b" c', ["echo", "a b", "c"]),
        ("echo 'it''s'", ["echo", "it's"]),
        ('a"b c"', ['a"b', 'c"']),
        ('"x"y"z w"', ["xyz w"]),
        ("  lots   of\tspace  ", ["lots", "of", "space"]),
        ('""', [""]),
        ("", []),
    ],
)
def test_tokenize(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


@pytest.mark.parametrize(
    ("value", "quoted"),
    [("plain", "plain"), ("a b", "'a b'"), ("it's", "'it'\"'\"'s'"), ("$HOME", "'$HOME'"), ("a;b", "'a;b'"), ("", "")],
)
def test_shell_quote(value: str, quoted: str) -> None:
    assert shell_quote(value) == quoted


@pytest.mark.parametrize(
    ("text", "include", "exclude"),
    [
        ("mynode1 mynode2", {"name": "mynode1,mynode2"}, {}),
        ("mynode1 !nodename: mynode2", {"name": "mynode1"}, {"nodename": "mynode2"}),
        (
            "tags: www+prod hostname: dev1.example.com,dev2.example.com",
            {"tags": "www+prod", "hostname": "dev1.example.com,dev2.example.com"},
            {},
        ),
        ("name: web1 name: web2", {"name": "web1,web2"}, {}),
        ("osFamily:unix", {"osFamily": "unix"}, {}),
        ("role: 'a b'", {"role": "a b"}, {}),
        ("name:", {}, {}),
        (".*", {"name": ".*"}, {}),
        ("!tags: db !tags: x", {}, {"tags": "db,x"}),
    ],
)
def test_parse_filter(text: str, include: dict[str, str], exclude: dict[str, str]) -> None:
    assert parse_filter(text) == NodeFilter(include=include, exclude=exclude)


def names(text: str, nodes: list[Node] = WEB, *, exclude_precedence: bool = True) -> list[str]:
    return [n.name for n in select_nodes(nodes, parse_filter(text), exclude_precedence=exclude_precedence)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mynode1 mynode2", ["mynode1", "mynode2"]),
        ("mynode1 !nodename: mynode2", ["mynode1"]),
        ("tags: www+prod hostname: dev1.example.com,dev2.example.com", ["web1"]),
        ("tags: www+prod,db", ["web1", "db1"]),
        ("tags: www", ["web1", "web2"]),
        ("tags: pr.*", ["web1", "db1"]),
        ("web.*", ["web1", "web2"]),
        ("web.*,db.*", []),
        ("web.*|db.*", ["web1", "web2", "db1"]),
        ("/web[12]/", ["web1", "web2"]),
        (".*", ["web1", "web2", "db1", "mynode1", "mynode2"]),
        ("role: web name: web2", ["web2"]),
        ("!role: web", ["db1", "mynode1", "mynode2"]),
        ("missing: .*", []),
        ("name: ' web1 '", ["web1"]),
        ("", []),
    ],
)
def test_select(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.fixture
def fleet() -> list[Node]:
    """Three nodes of one resource file, in file order: alder, birch, cedar."""
    return load_resource_file(FLEET)


@pytest.fixture
def corpus_dispatch() -> list[Node]:
    """The corpus's dispatch node set: homestar, cheat, strongbad."""
    return load_resource_file(corpus("rundeck", "nodes", "test-dispatch-nodes.xml"))


def test_dispatch_nodes_of_a_resource_file(fleet: list[Node]) -> None:
    assert names("tags: urgent", fleet) == ["alder", "cedar"]
    assert names("tags: quiet+urgent", fleet) == ["alder"]
    assert names("os-family: plan9 !tags: edge", fleet) == ["alder", "birch"]
    assert names("osName: 'Inferno OS'", fleet) == ["cedar"]
    assert names("hostname: ops@birch", fleet) == ["birch"]
    assert names("type: Node !username: .*", fleet) == ["birch", "cedar"]


@pytest.mark.corpus
def test_corpus_dispatch_nodes(corpus_dispatch: list[Node]) -> None:
    assert names("tags: priority1", corpus_dispatch) == ["homestar", "strongbad"]
    assert names("tags: boring+priority1", corpus_dispatch) == ["homestar"]
    assert names("os-family: fakeos !tags: elf", corpus_dispatch) == ["homestar", "cheat"]
    assert names("osName: 'Mac OS Xzz'", corpus_dispatch) == ["strongbad"]
    assert names("hostname: the@cheat", corpus_dispatch) == ["cheat"]


@pytest.mark.parametrize(
    ("text", "precedence", "expected"),
    [
        ("tags: www !tags: prod", True, ["web2"]),
        ("tags: www !tags: prod", False, ["web1", "web2", "mynode1", "mynode2"]),
        ("tags: www", False, ["web1", "web2"]),
        ("!tags: www", False, ["db1", "mynode1", "mynode2"]),
    ],
)
def test_exclude_precedence(text: str, precedence: bool, expected: list[str]) -> None:
    assert names(text, exclude_precedence=precedence) == expected


def test_filter_exclude_clauses_are_exclusions() -> None:
    combined = combine_filters("tags: www", "name: web1")
    assert combined == NodeFilter(include={"tags": "www"}, exclude={"name": "web1"})
    assert [n.name for n in select_nodes(WEB, combined)] == ["web2"]


def test_value_rules() -> None:
    assert matches_value("a,b", "b")
    assert not matches_value("a, b", "b")
    assert matches_value(" web1 ", "web1")
    assert not matches_value("x", "")
    assert not matches_value("", "x")
    assert matches_value("[bad", "[bad")
    assert not matches_tags("a", [])
    assert matches_tags("a + b", ["a", "b"])


def test_explicit_bad_regex_is_an_error() -> None:
    with pytest.raises(NodeFilterError) as info:
        names("/[bad/")
    assert str(info.value).startswith("invalid regular expression '[bad' in node filter: ")


def test_order_nodes() -> None:
    nodes = [
        Node(name="c", attributes={"rank": "1"}),
        Node(name="a", attributes={"rank": "2"}),
        Node(name="b"),
        Node(name="d", attributes={"rank": "1"}),
    ]
    assert [n.name for n in order_nodes(nodes)] == ["a", "b", "c", "d"]
    assert [n.name for n in order_nodes(nodes, rank_order="descending")] == ["d", "c", "b", "a"]
    assert [n.name for n in order_nodes(nodes, rank_attribute="rank")] == ["c", "d", "a", "b"]
    assert [n.name for n in order_nodes(nodes, rank_attribute="rank", rank_order="descending")] == ["a", "c", "d", "b"]
    with pytest.raises(NodeFilterError, match="rankOrder must be ascending or descending, not 'up'"):
        order_nodes(nodes, rank_order="up")
