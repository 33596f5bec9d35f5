"""Configuration items from `[ci.NAME]` tables of xlr.toml: checked against their type, passwords only by
reference to environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest
from task_helpers import DEMO_PLUGIN

from xlr_runtime.cis import load_cis
from xlr_runtime.errors import ConfigError
from xlr_runtime.plugins import build_plugin_manager
from xlr_runtime.typesystem.registry import TypeRegistry, load_registry


@pytest.fixture(scope="module")
def registry() -> TypeRegistry:
    return load_registry(plugin_paths=[DEMO_PLUGIN], pm=build_plugin_manager(load_installed=False))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "xlr.toml"
    path.write_text(text)
    return path


def test_values_are_coerced_and_passwords_resolved_from_the_environment(
    tmp_path: Path, registry: TypeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        tmp_path,
        '[settings]\n\n[ci.local]\ntype = "demo.Server"\nurl = "http://h"\nproxyPort = "8080"\n'
        'password = { env = "DEMO_PW" }\n',
    )
    catalog = load_cis(path, registry)
    assert catalog.names() == ["local"]
    ci = catalog.get("local")
    assert ci is not None and ci.values == {"url": "http://h", "proxyPort": 8080}
    monkeypatch.setenv("DEMO_PW", "pw")
    value = ci.resolve()
    assert (value.name, value.type, value.values["password"], value.values["authenticationMethod"]) == (
        "local",
        "demo.Server",
        "pw",
        "None",
    )
    assert "password" in value.password_fields


def test_no_file_means_no_cis(tmp_path: Path, registry: TypeRegistry) -> None:
    assert load_cis(tmp_path / "missing.toml", registry).names() == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[ci.a]\nurl = "x"\n', ":1: ci 'a': missing 'type' (e.g. type = \"jenkins.Server\")"),
        ('[ci.a]\ntype = "demo.Nope"\n', ":2: ci 'a': unknown type 'demo.Nope'"),
        (
            '[ci.a]\ntype = "demo.Server"\nurl = "x"\ncolour = "red"\n',
            ":4: ci 'a': unknown property 'colour' of demo.Server",
        ),
        (
            '[ci.a]\ntype = "demo.Server"\nproxyPort = "many"\n',
            ":3: ci 'a': property 'proxyPort' (integer): 'many' is not an integer",
        ),
        (
            '[ci.a]\ntype = "demo.Server"\npassword = "hunter2"\n',
            ":3: ci 'a': password properties cannot be written in xlr.toml; refer to an environment variable",
        ),
        (
            '[ci.a]\ntype = "demo.Server"\npassword = { env = "not a name" }\n',
            ":3: ci 'a': a password property must be { env = \"VARIABLE\" }",
        ),
        (  # one table mentions the key in a string and a comment before the table that has it
            '[ci.a]\ntype = "demo.Server"\nurl = """\ncolour = 1\n"""  # colour = 2\n\n'
            '[ci.b]\ntype = "demo.Server"\n\ncolour = "red"\n',
            ":10: ci 'b': unknown property 'colour' of demo.Server",
        ),
        (  # CIs as inline tables and as dotted keys
            '[ci]\na = { type = "demo.Server", url = "x" }\nb.type = "demo.Server"\nb.proxyPort = "many"\n',
            ":4: ci 'b': property 'proxyPort' (integer): 'many' is not an integer",
        ),
        (
            'ci.a = { type = "demo.Server",  proxyPort = "many" }\n',
            ":1: ci 'a': property 'proxyPort' (integer): 'many' is not an integer",
        ),
    ],
)
def test_mistakes_are_located_errors(tmp_path: Path, registry: TypeRegistry, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_cis(path, registry)
    assert str(caught.value) == f"{path}{message}"
    assert "hunter2" not in str(caught.value) and "hunter2" not in (caught.value.hint or "")


def test_literal_password_hint_shows_the_fix(tmp_path: Path, registry: TypeRegistry) -> None:
    path = write(tmp_path, '[ci.a]\ntype = "demo.Server"\npassword = "hunter2"\n')
    with pytest.raises(ConfigError) as caught:
        load_cis(path, registry)
    assert (
        caught.value.hint == 'Write password = { env = "SOME_VARIABLE" } and export SOME_VARIABLE before starting xlr.'
    )
