"""The dependency policy (README, "Dependencies"): every declared dependency has a lower bound, and
``.ci/lower-bounds.txt`` pins each one at exactly that bound, so CI's lower-bounds run tests what we promise."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def declared() -> dict[str, Requirement]:
    """Every runtime dependency and every extra's (``test``, ``record``) of pyproject.toml, by canonical name; a
    package named twice must have the same requirement each time."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = [*project["dependencies"], *(line for extra in project["optional-dependencies"].values() for line in extra)]
    requirements: dict[str, Requirement] = {}
    for req in map(Requirement, lines):
        name = canonicalize_name(req.name)
        assert requirements.setdefault(name, req) == req, f"{name} is required as {requirements[name]} and {req}"
    return requirements


def pinned() -> dict[str, Version]:
    """The ``name==version`` lines of .ci/lower-bounds.txt."""
    pins = {}
    for line in (ROOT / ".ci" / "lower-bounds.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = Version(version)
    return pins


def lower_bound(req: Requirement) -> Version | None:
    """The version of the requirement's ``>=`` clause, if it has one."""
    bounds = [Version(spec.version) for spec in req.specifier if spec.operator == ">="]
    return bounds[0] if bounds else None


def test_every_dependency_has_a_lower_bound() -> None:
    unbounded = [str(req) for req in declared().values() if lower_bound(req) is None]
    assert not unbounded, f"dependencies without a >= lower bound: {unbounded}"


def test_the_lower_bounds_file_pins_each_dependency_at_its_bound() -> None:
    pins = pinned()
    wrong = {
        name: (str(lower_bound(req)), str(pins.get(name)))
        for name, req in declared().items()
        if pins.get(name) != lower_bound(req)
    }
    assert not wrong, f"(declared bound, pinned) differ in .ci/lower-bounds.txt: {wrong}"
    assert set(pins) == set(declared()), f"pins of undeclared packages: {set(pins) - set(declared())}"
