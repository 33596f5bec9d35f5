"""The execution data context: references, views, exec quoting, script tokens, RD_* variables, data capture."""

from __future__ import annotations

import re
import subprocess

import pytest

from xlr_runtime.rundeck.run.context import (
    DataContext,
    capture_data,
    env_name,
    environment,
    expand,
    expand_command,
    replace_script_tokens,
    script_command,
)


@pytest.fixture
def context() -> DataContext:
    ctx = DataContext()
    ctx.merge("option", {"x": "hello", "spaced": "a b", "quote": "it's", "empty": "", "my-opt": "v"})
    ctx.merge("job", {"name": "deploy", "user.name": "admin", "retryAttempt": "0"})
    ctx.merge("globals", {"env": "prod"})
    ctx.put("data", "k", "global-k")
    ctx.put("data", "k", "one", node="node1")
    ctx.put("data", "k", "two", node="node2")
    ctx.merge("node", {"name": "node1", "os-family": "unix"}, node="node1")
    ctx.put("exec", "exitCode", "3", node="node1", step=2)
    ctx.put("exec", "exitCode", "0", node="node2", step=2)
    return ctx


@pytest.mark.parametrize(
    ("text", "node", "expected"),
    [
        ("${option.x}", None, "hello"),
        ("${job.user.name}", None, "admin"),
        ("${globals.env}", None, "prod"),
        ("${data.k}", None, "global-k"),
        ("${data.k}", "node1", "one"),
        ("${data.k@node2}", "node1", "two"),
        ("${data.k*}", None, "one,two"),
        ("${data.k*;}", None, "one;two"),
        ("${2:exec.exitCode}", "node1", "3"),
        ("${2:exec.exitCode@node2}", "node1", "0"),
        ("${2:exec.exitCode*}", None, "3,0"),
        ("${node.os-family}", "node1", "unix"),
        ("${option.missing}", None, ""),
        ("pre-${option.x}-post", None, "pre-hello-post"),
        ("${ option.x}", None, "${ option.x}"),
    ],
)
def test_expand(context: DataContext, text: str, node: str | None, expected: str) -> None:
    assert expand(text, context, node=node) == expected


def test_expand_can_keep_missing_references(context: DataContext) -> None:
    assert expand("${option.missing} ${option.x}", context, blank_missing=False) == "${option.missing} hello"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("echo ${option.x}", "echo hello"),
        ("echo ${option.spaced}", "echo 'a b'"),
        ("echo ${option.quote}", "echo 'it'\"'\"'s'"),
        ("echo ${unquotedoption.spaced}", "echo a b"),
        ('echo "literal words"', "echo literal words"),
        ("echo 'x ${option.spaced}'", "echo 'x a b'"),
        ("echo ${option.missing}end", "echo end"),
        ("echo a;b", "echo a;b"),
    ],
)
def test_expand_command(context: DataContext, command: str, expected: str) -> None:
    assert expand_command(command, context) == expected


def test_expanded_command_runs_in_sh_without_injection(context: DataContext) -> None:
    context.put("option", "evil", "x; echo INJECTED $(id) `id` it's")
    command = expand_command("printf %s ${option.evil}", context)
    out = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, check=True).stdout
    assert out == "x; echo INJECTED $(id) `id` it's"


def test_script_command_forms(context: DataContext) -> None:
    assert script_command("/tmp/s.sh", "a ${option.spaced}", context) == "/tmp/s.sh a 'a b'"
    assert script_command("/tmp/s.sh", None, context, interpreter="bash -x") == "bash -x /tmp/s.sh"
    assert (
        script_command("/tmp/s.sh", "${option.x} 2", context, interpreter="sudo -u bob", args_quoted=True)
        == "sudo -u bob '/tmp/s.sh hello 2'"
    )


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("echo @option.x@", "echo hello"),
        ("echo @option.missing@!", "echo !"),
        ("mail me@@example.com", "mail me@example.com"),
        ("user@host and you@there", "user@host and you@there"),
        ("a@option.x@b@job.name@c", "ahellobdeployc"),
        ("@node.name@ on @data.k@", "node1 on one"),
        ("trailing @", "trailing @"),
    ],
)
def test_script_tokens(context: DataContext, script: str, expected: str) -> None:
    assert replace_script_tokens(script, context, node="node1") == expected


def test_environment_names(context: DataContext) -> None:
    assert env_name("option", "my-opt") == "RD_OPTION_MY_OPT"
    assert env_name("node", "os-family") == "RD_NODE_OS_FAMILY"
    assert env_name("job", "retryAttempt") == "RD_JOB_RETRYATTEMPT"
    env = environment(context, node="node1")
    assert env["RD_OPTION_X"] == "hello"
    assert env["RD_JOB_USER_NAME"] == "admin"
    assert env["RD_DATA_K"] == "one"
    assert env["RD_NODE_OS_FAMILY"] == "unix"
    assert environment(context)["RD_DATA_K"] == "global-k"


@pytest.mark.parametrize(
    ("line", "captured"),
    [
        ("RUNDECK:DATA:key=value", ("key", "value")),
        ("RUNDECK:DATA: build = 42 and more", ("build", "42 and more")),
        ("RUNDECK:DATA:key=", None),
        ("echo RUNDECK:DATA:key=value", None),
        ("plain", None),
    ],
)
def test_capture_data(line: str, captured: tuple[str, str] | None) -> None:
    assert capture_data(line) == captured


def test_capture_with_configured_pattern() -> None:
    assert capture_data("build #7 done", re.compile(r"build #(\d+) (\w+)")) == ("7", "done")


def test_round_trip(context: DataContext) -> None:
    copy = DataContext.from_dict(context.to_dict())
    assert copy.flatten(node="node1") == context.flatten(node="node1")
    assert copy.lookup("exec", "exitCode", node="node2", step=2) == "0"
