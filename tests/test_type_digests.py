"""Issue 16: hosts sharing a store compare the digests of their types (``xlr_runtime.typesystem.digest``,
``runtime_owners.type_digests``). A run of a type that another live runtime defines differently fails with one
clear message instead of running either host's script; a runtime that is gone (an upgrade of the only host, a
restart after editing a script) never counts. Store-level tests on both backends; the process-level test with two
``xlr serve`` homes on PostgreSQL is in tests/test_cluster.py."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from task_helpers import DEMO_PLUGIN, ThreadScriptExecutor

from tests.store_backends import another_store
from xlr_runtime.cli import main
from xlr_runtime.clock import SystemClock
from xlr_runtime.engine import DISAGREEMENT_NOTE
from xlr_runtime.plugins import build_plugin_manager
from xlr_runtime.scheduler import Scheduler
from xlr_runtime.settings import defaults
from xlr_runtime.store import RunState, Store, TaskStatus
from xlr_runtime.store.owners import ProcessIdentity
from xlr_runtime.typesystem.digest import TypeDigests
from xlr_runtime.typesystem.registry import TypeRegistry, load_registry

HERE = ProcessIdentity.current()
ELSEWHERE = ProcessIdentity("host-b", 4242, "another-boot", HERE.pid_ns, "1")


def registry_of(plugin: Path) -> TypeRegistry:
    return load_registry(plugin_paths=[plugin], pm=build_plugin_manager(load_installed=False))


def edited_demo(folder: Path, script: str = "demo/Counter.py") -> Path:
    """A copy of the demo plugin with one more line at the end of ``script``."""
    copy = folder / "demo-edited"
    shutil.copytree(DEMO_PLUGIN, copy)
    with (copy / script).open("a") as handle:
        handle.write("\n# edited\n")
    return copy


def test_a_copy_at_another_path_has_the_same_digests_and_an_edited_script_changes_only_its_plugins_types(
    tmp_path: Path,
) -> None:
    original = registry_of(DEMO_PLUGIN).digests
    shutil.copytree(DEMO_PLUGIN, tmp_path / "elsewhere")
    assert registry_of(tmp_path / "elsewhere").digests == original  # the paths a host reads from do not count
    edited = registry_of(edited_demo(tmp_path)).digests
    changed = {name for name, digest in edited.by_type.items() if original.by_type[name] != digest}
    assert "demo.Counter" in changed and all(name.startswith("demo.") for name in changed)
    assert edited.registry != original.registry


def test_a_changed_property_default_changes_the_types_digest(tmp_path: Path) -> None:
    copy = tmp_path / "demo"
    shutil.copytree(DEMO_PLUGIN, copy)
    synthetic = copy / "synthetic.xml"
    synthetic.write_text(synthetic.read_text().replace('kind="integer" default="3"', 'kind="integer" default="4"'))
    assert registry_of(copy).digests.by_type["demo.Counter"] != registry_of(DEMO_PLUGIN).digests.by_type["demo.Counter"]


def test_only_live_owners_with_other_digests_of_a_type_disagree(store: Store, tmp_path: Path) -> None:
    mine = registry_of(DEMO_PLUGIN).digests
    theirs = registry_of(edited_demo(tmp_path)).digests
    now = time.time()
    store.owners.register("same", ELSEWHERE, purpose="xlr serve", now=now, digests=mine)
    store.owners.register("none", ELSEWHERE, purpose="xlr serve", now=now)  # an older version records none
    store.owners.register("other", ELSEWHERE, purpose="xlr serve", now=now, lease=60, digests=theirs)
    found = store.owners.differing(mine, HERE, now, me=store.owner)
    assert set(found) == {n for n in mine.by_type if theirs.by_type[n] != mine.by_type[n]}
    assert {owner.owner for owners in found.values() for owner in owners} == {"other"}
    assert store.owners.differing(mine, HERE, now + 60, me=store.owner) == {}  # its lease ran out: it is gone
    only_here = TypeDigests("x", {"mine.Only": "0123456789abcdef"})  # a type no other host loads
    assert store.owners.differing(only_here, HERE, now, me=store.owner) == {}


def test_an_ended_runtime_of_this_host_with_the_old_scripts_is_no_disagreement(store: Store, tmp_path: Path) -> None:
    """The single host's upgrade: the runtime that ran the old script crashed (its row is left); the restarted one,
    with the edited script, runs its tasks."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    identity = ProcessIdentity.of(child.pid)
    assert identity is not None
    old = registry_of(DEMO_PLUGIN).digests
    store.owners.register("crashed", identity, purpose="xlr serve", now=time.time(), lease=3600, digests=old)
    child.wait()
    edited = registry_of(edited_demo(tmp_path))
    executor = ThreadScriptExecutor(1)
    scheduler = Scheduler(store, edited, executor, defaults(), SystemClock())
    try:
        task = scheduler.engine.create_task("demo.Counter", {"polls": "1"})
        scheduler.recover()
        assert scheduler.engine.disagreements == {}
        assert scheduler.tick() == 1
        assert [request.source.endswith("# edited\n") for request in executor.requests] == [True]
    finally:
        scheduler.shutdown(grace_period=5)
        executor.shutdown(wait=False)
    assert store.tasks.get(task.id).status is not TaskStatus.FAILED


@pytest.mark.parametrize("owner", [None, "runtime-a"], ids=["owner-named-by-default", "owner-named-otherwise"])
def test_a_run_of_a_type_a_live_host_defines_differently_fails_with_one_clear_line(
    store: Store, tmp_path: Path, owner: str | None
) -> None:
    theirs = registry_of(edited_demo(tmp_path)).digests
    store.owners.register("host-b:4242:x", ELSEWHERE, purpose="xlr serve", now=time.time(), digests=theirs)
    mine = store if owner is None else another_store(store, owner=owner)  # the message names the process anyway
    executor = ThreadScriptExecutor(1)
    scheduler = Scheduler(mine, registry_of(DEMO_PLUGIN), executor, defaults(), SystemClock())
    try:
        task = scheduler.engine.create_task("demo.Counter", {"polls": "1"})
        scheduler.recover()
        assert scheduler.tick() == 0  # nothing handed to a worker
        scheduler.collect()
    finally:
        scheduler.shutdown(grace_period=0)
        executor.shutdown(wait=False)
        if mine is not store:
            mine.close()
    assert executor.requests == []
    assert owner is not None or store.owner.startswith(f"{HERE.host}:{HERE.pid}:")  # the default name says the same
    reason = DISAGREEMENT_NOTE.format(
        type="demo.Counter", other="pid 4242 (xlr serve) on host-b", here=f"pid {HERE.pid} on {HERE.host}"
    )
    failed = store.tasks.get(task.id)
    assert (failed.status, failed.failure) == (TaskStatus.FAILED, reason)
    assert [line.text for line in store.tasks.log(task.id)] == [f"Task failed: {reason}"]
    assert [run.state for run in store.tasks.runs(task.id)] == [RunState.DONE]


def test_editing_a_script_and_running_again_on_one_home_runs_the_new_script(tmp_path: Path) -> None:
    plugin = tmp_path / "demo"
    shutil.copytree(DEMO_PLUGIN, plugin)
    home = tmp_path / "home"
    args = ["--home", str(home), "--plugins", str(plugin)]
    first = CliRunner().invoke(main, ["run", "demo.Counter", *args, "-i", "polls=1", "-i", "interval=0"])
    assert first.exit_code == 0, first.output
    script = plugin / "demo" / "Counter.py"
    script.write_text(script.read_text() + '\nprint("edited script ran")\n')
    second = CliRunner().invoke(main, ["run", "demo.Counter", *args, "-i", "polls=1", "-i", "interval=0"])
    assert second.exit_code == 0, second.output
    assert "edited script ran" in second.output and "edited script ran" not in first.output
