"""docs/operations.md: the systemd unit stops later than the serve grace period, and the Dockerfile is well-formed
and starts a command xlr accepts (no Docker here: its syntax only)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import click

from xlr_runtime.cli import main
from xlr_runtime.settings import SETTINGS

#: The default of serve.grace_period, which the service managers' stop timeouts must exceed.
GRACE = next(s.default for s in SETTINGS if s.name == "serve.grace_period")
DOCS = (Path(__file__).resolve().parents[1] / "docs" / "operations.md").read_text(encoding="utf-8")

#: Every instruction of the Dockerfile reference.
DOCKERFILE_INSTRUCTIONS = {
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL", "MAINTAINER",
    "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
}  # fmt: skip


def block(language: str) -> str:
    [text] = re.findall(rf"```{language}\n(.*?)```", DOCS, flags=re.S)
    return text


def accepts(args: list[str]) -> None:
    """Fail unless ``xlr ARGS`` parses (the command exists, its options and values are valid)."""
    command: click.Command = main
    while isinstance(command, click.Group):
        name, args = args[0], args[1:]
        found = command.get_command(click.Context(command), name)
        assert found is not None, name
        command = found
    command.make_context(command.name or "", list(args))


def test_the_systemd_unit_waits_longer_than_the_grace_period_and_runs_a_valid_command() -> None:
    unit = dict(re.findall(r"^(\w+)=(.*)$", block("ini"), flags=re.M))
    assert float(unit["TimeoutStopSec"]) > GRACE
    assert unit["KillMode"] == "mixed"  # SIGTERM to xlr serve only: its workers finish within the grace period
    executable, *args = shlex.split(unit["ExecStart"])
    assert executable.endswith("/xlr")
    accepts(args)


def test_the_dockerfile_is_well_formed_and_starts_a_valid_command() -> None:
    lines = [line for line in block("dockerfile").splitlines() if line.strip() and not line.startswith("#")]
    instructions = {line.split()[0]: line.split(maxsplit=1)[1] for line in lines}
    assert set(instructions) <= DOCKERFILE_INSTRUCTIONS
    assert lines[0].startswith("FROM ")
    entrypoint, cmd = json.loads(instructions["ENTRYPOINT"]), json.loads(instructions["CMD"])
    assert entrypoint == ["xlr"]
    accepts(cmd)
    run = re.search(r"--stop-timeout (\d+)", DOCS)
    assert run is not None and float(run.group(1)) > GRACE
