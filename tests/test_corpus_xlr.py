"""Conformance: every real synthetic.xml of corpus/xlr loads with our base and built-in types, without error.

How the set is loaded: ``docs-jenkins.Build.xml`` is XL Release's own built-in ``jenkins.Server``/``jenkins.Build``
as its documentation quotes them, i.e. the same types as our bundled ``plugins/jenkins``. Loading both would be
a duplicate type (correctly an error, as in XL Release), so the whole set loads with the base types and
``include_bundled=False`` (the docs file then provides jenkins.* to ``xlr-jenkins-multibranch-plugin``), and
every other file also loads on its own next to the bundled plugins, as a user would install it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from synthetic_helpers import fresh_pm

from tests.conftest import CORPUS
from xlr_runtime.errors import DefinitionError
from xlr_runtime.typesystem.kinds import PropertyKind
from xlr_runtime.typesystem.registry import TypeRegistry, load_registry

FILES = sorted((CORPUS / "xlr").glob("*.xml"))
DOCS = CORPUS / "xlr" / "docs-jenkins.Build.xml"
PLUGIN_FILES = [f for f in FILES if f != DOCS]


def test_the_corpus_is_there() -> None:
    assert len(FILES) == 7 and DOCS in FILES


@pytest.fixture(scope="module")
def corpus_registry() -> TypeRegistry:
    return load_registry(plugin_paths=FILES, pm=fresh_pm(), include_bundled=False)


def test_every_corpus_file_loads_together(corpus_registry: TypeRegistry) -> None:
    loaded = {p.name for p in corpus_registry.plugins}
    assert {f.name.removesuffix(".xml").removesuffix(".synthetic") for f in FILES} <= loaded
    per_plugin = {name: 0 for name in loaded}
    for task_type in corpus_registry.types():
        per_plugin[task_type.plugin] += 1
    assert all(per_plugin[f.name.removesuffix(".xml").removesuffix(".synthetic")] > 0 for f in FILES), per_plugin


@pytest.mark.parametrize("path", PLUGIN_FILES, ids=lambda p: p.name)
def test_each_plugin_loads_next_to_the_bundled_plugins(path: Path) -> None:
    registry = load_registry(plugin_paths=[path], pm=fresh_pm())
    assert any(t.plugin == path.name.removesuffix(".synthetic.xml") for t in registry.types())


def test_docs_file_conflicts_with_the_bundled_jenkins_plugin() -> None:
    with pytest.raises(DefinitionError, match=r"type 'jenkins\.Server' is already defined at .*plugins/jenkins/"):
        load_registry(plugin_paths=[DOCS], pm=fresh_pm())


def test_resolved_shapes_match_xl_release(corpus_registry: TypeRegistry) -> None:
    multibranch = corpus_registry.get("jenkins.MultiBranchBuild")
    assert multibranch.script_location == "jenkins/multibranch/Build.py"
    assert multibranch.properties["jenkinsServer"].referenced_type == "jenkins.Server"
    assert multibranch.properties["iconLocation"].default == "jenkins/jenkins.png"

    github = corpus_registry.get("githubActions.Server")
    auth = github.properties["authenticationMethod"]
    assert (auth.enum_values, auth.default, auth.hidden) == (("None",), "None", True)
    assert github.properties["proxyPort"].kind is PropertyKind.INTEGER  # inherited from the base type

    tile = corpus_registry.get("githubActions.WorkflowRunsTimelineTile")
    assert tile.properties["supportedScopes"].default == ["release", "folder", "global"]
    assert tile.properties["count"].default == 25

    gitlab = corpus_registry.get("gitlab.QueryMergeRequests")
    assert gitlab.script_location == "gitlab/Task.py"
    assert gitlab.properties["state"].enum_values == ("opened", "closed", "merged", "locked", "all")
    assert gitlab.properties["simple_view"].default is False
    trigger = corpus_registry.get("gitlab.CommitTrigger")
    assert trigger.is_a("xlrelease.ReleaseTrigger") and trigger.properties["branchName"].required is False

    teamcity = corpus_registry.get("teamcity.Build")
    assert (teamcity.properties["pollInterval"].default, teamcity.properties["pollInterval"].required) == (5, True)
    bamboo = corpus_registry.get("bamboo.RunPlan")
    assert bamboo.script_location == "bamboo/RunPlan.py"  # the default prefix/Name.py

    deploy = corpus_registry.get("xldeploy.DeployTask")
    assert deploy.ancestors[:3] == ("xldeploy.TaskRunningTask", "xldeploy.Task", "xldeploy.VirtualTask")
    assert corpus_registry.get("xldeploy.Server").parent == "xldeploy.XLDeployServer"
    assert corpus_registry.get("xldeploy.CreateEnvironment").properties["members"].kind is PropertyKind.SET_OF_STRING
