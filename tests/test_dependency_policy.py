"""The dependency policy (README, "Dependencies"): every declared dependency has a lower bound, and
``.ci/lower-bounds.txt`` pins each one at exactly that bound, so CI's lower-bounds run tests what we promise.

The one exception is an extra of :data:`NEWEST_ONLY_EXTRAS`: a tool that cannot install at the other extras' lower
bounds (schemathesis 4 needs newer pytest, hypothesis and rich than ``test`` admits), which CI installs only in its
run at the newest releases. Its packages still have a lower bound, but the lower-bounds file leaves them out (it
would promise a run that never happens) and the README's ``.[test]`` never installs them."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
#: Extras tested only at the newest releases (.ci/run installs them after the lower-bounds run), never pinned.
NEWEST_ONLY_EXTRAS = {"fuzz"}


def extras() -> dict[str, list[str]]:
    """The requirement lines of each extra of pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return dict(project["optional-dependencies"])


def declared(*, newest_only: bool = False) -> dict[str, Requirement]:
    """Every runtime dependency and every extra's (``test``, ``record``, …) of pyproject.toml, by canonical name
    (with ``newest_only``, only those of :data:`NEWEST_ONLY_EXTRAS`; else none of theirs); a package named twice
    must have the same requirement each time."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    chosen = [lines for name, lines in extras().items() if (name in NEWEST_ONLY_EXTRAS) == newest_only]
    lines = [*([] if newest_only else project["dependencies"]), *(line for extra in chosen for line in extra)]
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
    every = [*declared().values(), *declared(newest_only=True).values()]
    unbounded = [str(req) for req in every if lower_bound(req) is None]
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


def test_newest_only_extras_are_never_pinned_nor_installed_by_the_readme_command() -> None:
    assert set(extras()) >= NEWEST_ONLY_EXTRAS, "a newest-only extra that pyproject.toml does not declare"
    newest_only = declared(newest_only=True)
    assert not set(newest_only) & set(pinned()), "a newest-only package is pinned in .ci/lower-bounds.txt"
    assert not set(newest_only) & set(declared()), "a newest-only package is also a dependency tested at its bound"
    ci_run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme_suite = ci_run.split("readme_suite() {", 1)[1].split("\n}\n", 1)[0]
    assert "python -m pip install -e '.[test]' && python -m pytest" in readme_suite
    assert f"python -m pip install -q -e '.[test,{','.join(sorted(NEWEST_ONLY_EXTRAS))}]'" in ci_run
