"""How a node's SSH settings and providers are resolved: node attribute, project, framework, default."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from xlr_runtime.errors import ConfigError, NodeConnectionError, NodeExecutorError
from xlr_runtime.rundeck.keystore import KeyStore
from xlr_runtime.rundeck.nodes.properties import ProjectProperties
from xlr_runtime.rundeck.nodes.resources import Node, local_node
from xlr_runtime.rundeck.nodes.ssh.credentials import load_credentials
from xlr_runtime.rundeck.nodes.ssh.providers import file_copier, is_remote, node_executor
from xlr_runtime.rundeck.nodes.ssh.target import resolve_target
from xlr_runtime.store import Store


@pytest.fixture
def keys(tmp_path: Path) -> Iterator[KeyStore]:
    store = Store.open(tmp_path / "xlr.db")
    yield KeyStore(store)
    store.close()


def node(**attributes: str) -> Node:
    return Node("web", {"hostname": "web.example", **attributes}, source="nodes.yaml:1")


def expand(text: str) -> str:
    return text.replace("${job.username}", "alice").replace("${option.user}", "bob")


def test_defaults_are_rundecks() -> None:
    target = resolve_target(node(), ProjectProperties(), expand)
    assert (target.host, target.port, target.authentication, target.key_path) == (
        "web.example",
        22,
        "privateKey",
        "~/.ssh/id_rsa",
    )
    assert (target.connect_timeout, target.command_timeout, target.destination_dir) == (None, None, "/tmp")
    assert (target.password_option, target.passphrase_option) == ("sshPassword", "sshKeyPassphrase")
    assert target.strict_host_key_checking is False


@pytest.mark.parametrize(
    ("hostname", "ssh_port", "expected"),
    [
        ("h:2222", None, ("h", 2222)),
        ("h", "2200", ("h", 2200)),
        ("h:2222", "2200", ("h", 2222)),
        ("[::1]:2022", None, ("::1", 2022)),
        ("[::1]", None, ("::1", 22)),
    ],
)
def test_hostname_port_wins_over_ssh_port(hostname: str, ssh_port: str | None, expected: tuple[str, int]) -> None:
    attributes = {"hostname": hostname, **({"ssh-port": ssh_port} if ssh_port else {})}
    target = resolve_target(node(**attributes), ProjectProperties(), expand)
    assert (target.host, target.port) == expected


def test_node_then_project_then_framework() -> None:
    properties = ProjectProperties(
        project={"project.ssh-keypath": "/p/key", "project.ssh-connect-timeout": "2500"},
        framework={
            "framework.ssh-keypath": "/f/key",
            "framework.ssh-command-timeout": "60000",
            "framework.ssh.user": "svc",
            "framework.ssh-connect-timeout": "1",
        },
    )
    target = resolve_target(node(), properties, expand)
    assert (target.key_path, target.connect_timeout, target.command_timeout, target.username) == (
        "/p/key",
        2.5,
        60.0,
        "svc",
    )
    own = resolve_target(node(**{"ssh-keypath": "/n/key", "username": "${job.username}"}), properties, expand)
    assert (own.key_path, own.username) == ("/n/key", "alice")


def test_destination_folder_by_os_family_and_level() -> None:
    properties = ProjectProperties(
        project={"project.file-copy-destination-dir.windows": "D:/tmp"},
        framework={"framework.file-copy-destination-dir": "/var/tmp"},
    )
    assert resolve_target(node(osFamily="windows"), properties, expand).destination_dir == "D:/tmp"
    assert resolve_target(node(osFamily="unix"), properties, expand).destination_dir == "/var/tmp"
    assert resolve_target(node(osFamily="windows"), ProjectProperties(), expand).destination_dir == "C:/WINDOWS/TEMP/"
    mine = node(**{"file-copy-destination-dir": "/srv/x"})
    assert resolve_target(mine, properties, expand).destination_dir == "/srv/x"


def test_storage_paths_are_expanded() -> None:
    target = resolve_target(node(**{"ssh-key-storage-path": "keys/${option.user}/id"}), ProjectProperties(), expand)
    assert target.key_storage_path == "keys/bob/id"


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"hostname": ""}, "node 'web' (no hostname): no hostname attribute"),
        ({"hostname": "h:99999"}, "node 'web' (h:99999): port '99999' is not a port number"),
        (
            {"ssh-authentication": "kerberos"},
            "node 'web' (web.example): ssh-authentication 'kerberos' is not 'privateKey' or 'password'",
        ),
        (
            {"ssh-command-timeout": "5s"},
            "node 'web' (web.example): ssh-command-timeout '5s' is not a number of milliseconds",
        ),
    ],
)
def test_bad_settings_fail_the_node_in_one_line(attributes: dict[str, str], message: str) -> None:
    with pytest.raises(NodeConnectionError) as info:
        resolve_target(node(**attributes), ProjectProperties(), expand)
    assert (str(info.value), info.value.reason) == (message, "ConfigurationFailure")


def test_missing_credentials_name_what_to_set(tmp_path: Path, keys: KeyStore) -> None:
    password = resolve_target(node(**{"ssh-authentication": "password"}), ProjectProperties(), expand)
    with pytest.raises(NodeConnectionError) as info:
        load_credentials(password, keys=keys, secure={})
    assert str(info.value) == (
        "node 'web' (web.example:22): no password: set ssh-password-storage-path or give the secure option "
        "'sshPassword'"
    )
    missing = resolve_target(node(**{"ssh-keypath": str(tmp_path / "nope")}), ProjectProperties(), expand)
    with pytest.raises(NodeConnectionError) as info:
        load_credentials(missing, keys=keys, secure={})
    assert str(info.value) == (
        f"node 'web' (web.example:22): cannot read ssh-keypath '{tmp_path / 'nope'}': No such file or directory"
    )
    stored = resolve_target(node(**{"ssh-key-storage-path": "keys/ops/web"}), ProjectProperties(), expand)
    with pytest.raises(NodeConnectionError) as info:
        load_credentials(stored, keys=keys, secure={})
    assert str(info.value) == "node 'web' (web.example:22): key storage keys/ops/web: no key is stored there"
    junk = tmp_path / "junk"
    junk.write_text("not a key")
    with pytest.raises(NodeConnectionError) as info:
        load_credentials(
            resolve_target(node(**{"ssh-keypath": str(junk)}), ProjectProperties(), expand), keys=keys, secure={}
        )
    assert "is not a private key this runtime reads" in str(info.value)


def test_providers_as_rundeck_selects_them() -> None:
    plain = ProjectProperties()
    assert (node_executor(node(), plain), file_copier(node(), plain)) == ("jsch-ssh", "jsch-scp")
    assert node_executor(local_node(name="srv"), plain) == "local"
    project = ProjectProperties(
        project={"service.NodeExecutor.default.provider": "sshj-ssh", "service.FileCopier.default.provider": "sshj-scp"}
    )
    assert (node_executor(node(), project), file_copier(node(), project)) == ("sshj-ssh", "sshj-scp")
    assert node_executor(node(**{"node-executor": "local"}), project) == "local"
    assert is_remote(node(), project) and not is_remote(local_node(name="srv"), project)
    framework = ProjectProperties(framework={"service.NodeExecutor.default.provider": "local"})
    assert node_executor(node(), framework) == "local"


@pytest.mark.parametrize(
    ("attribute", "value", "service"),
    [("node-executor", "script-exec", "node executor"), ("file-copier", "script-copy", "file copier")],
)
def test_providers_not_run_here_are_refused(attribute: str, value: str, service: str) -> None:
    with pytest.raises(NodeExecutorError) as info:
        is_remote(node(**{attribute: value}), ProjectProperties())
    usable = "local, jsch-ssh, sshj-ssh" if service == "node executor" else "local, jsch-scp, sshj-scp"
    assert str(info.value) == f"node 'web': {service} {value!r} is not supported (use {usable})"


def test_properties_files_are_read_as_java_properties(tmp_path: Path) -> None:
    etc = tmp_path / "projects" / "P" / "etc"
    etc.mkdir(parents=True)
    (etc / "project.properties").write_text("# comment\nproject.ssh-keypath = /k\\\n  ey\nproject.x=a\\u00e9\n")
    properties = ProjectProperties.load(tmp_path, "P")
    assert (properties.setting("ssh-keypath"), properties.project["project.x"]) == ("/key", "aé")
    (etc / "project.properties").write_bytes(b"project.x=\xff\n")
    with pytest.raises(ConfigError) as info:
        ProjectProperties.load(tmp_path, "P")
    assert str(info.value).startswith(f"{etc / 'project.properties'}: cannot read properties")
