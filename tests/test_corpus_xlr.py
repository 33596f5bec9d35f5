"""Real synthetic.xml files load with our base and built-in types, without error.

The features are tested on files written for these tests (``tests/data/xlr``): ``relay`` (an invented CI server
plugin with the shapes real plugins use: a connection type, a virtual task carrying the server, every property
kind, enum values, hidden and password properties, a tile, a trigger, a type extending a built-in plugin's
type), ``relay-extras`` (a second plugin that modifies and extends relay's types), ``jenkins-copy`` (a copy of
the bundled Jenkins types) and ``jenkins-branches`` (a plugin extending jenkins.Build).

Conformance (marked ``corpus``, reached through tests/corpus.py): every real file of the corpus's ``xlr`` folder
loads the same way. ``docs-jenkins.Build.xml`` is XL Release's own built-in ``jenkins.Server``/``jenkins.Build``
as its documentation quotes them, i.e. the same types as our bundled ``plugins/jenkins``. Loading both would be
a duplicate type (correctly an error, as in XL Release), so the whole set loads with the base types and
``include_bundled=False`` (the docs file then provides jenkins.* to ``xlr-jenkins-multibranch-plugin``), and
every other file also loads on its own next to the bundled plugins, as a user would install it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from synthetic_helpers import fresh_pm

from tests.corpus import corpus, corpus_files
from xlr_runtime.errors import DefinitionError
from xlr_runtime.typesystem.kinds import PropertyKind
from xlr_runtime.typesystem.registry import TypeRegistry, load_registry

FIXTURES = Path(__file__).parent / "data" / "xlr"
RELAY = FIXTURES / "relay.synthetic.xml"
RELAY_EXTRAS = FIXTURES / "relay-extras.synthetic.xml"
JENKINS_COPY = FIXTURES / "jenkins-copy.synthetic.xml"
JENKINS_BRANCHES = FIXTURES / "jenkins-branches.synthetic.xml"
FIXTURE_FILES = [RELAY, RELAY_EXTRAS, JENKINS_COPY, JENKINS_BRANCHES]

#: The corpus files, for parametrize (one placeholder when the corpus is absent: the test then skips).
FILES = corpus_files("xlr")
DOCS_NAME = "docs-jenkins.Build.xml"
PLUGIN_FILES = [f for f in FILES if f.name != DOCS_NAME]


def plugin_name(path: Path) -> str:
    return path.name.removesuffix(".xml").removesuffix(".synthetic")


def types_per_plugin(registry: TypeRegistry) -> dict[str, int]:
    counts = {plugin.name: 0 for plugin in registry.plugins}
    for task_type in registry.types():
        counts[task_type.plugin] += 1
    return counts


# --- features, on the fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fixture_registry() -> TypeRegistry:
    return load_registry(plugin_paths=FIXTURE_FILES, pm=fresh_pm(), include_bundled=False)


def test_the_fixture_files_load_together(fixture_registry: TypeRegistry) -> None:
    per_plugin = types_per_plugin(fixture_registry)
    names = [plugin_name(f) for f in FIXTURE_FILES]
    assert set(names) <= set(per_plugin), per_plugin
    assert all(per_plugin[name] > 0 for name in names), per_plugin
    assert fixture_registry.plugin_of(fixture_registry.get("jenkins.Build")).name == "jenkins-copy"


@pytest.mark.parametrize(
    "paths",
    [[RELAY], [JENKINS_BRANCHES], [RELAY, RELAY_EXTRAS]],
    ids=["relay", "jenkins-branches", "relay-extras"],
)
def test_each_fixture_plugin_loads_next_to_the_bundled_plugins(paths: list[Path]) -> None:
    registry = load_registry(plugin_paths=paths, pm=fresh_pm())
    assert types_per_plugin(registry)[plugin_name(paths[-1])] > 0
    assert registry.plugin_of(registry.get("jenkins.Build")).name == "jenkins"  # the bundled one


def test_a_copy_of_the_bundled_jenkins_types_conflicts_with_the_bundled_plugin() -> None:
    with pytest.raises(DefinitionError) as info:
        load_registry(plugin_paths=[JENKINS_COPY], pm=fresh_pm())
    assert re.fullmatch(
        re.escape(f"{JENKINS_COPY.absolute()}:8: type 'jenkins.Server' is already defined at ")
        + r".*plugins/jenkins/synthetic\.xml:\d+",
        str(info.value),
    ), str(info.value)


def test_a_plugin_building_on_another_fails_without_it() -> None:
    with pytest.raises(DefinitionError) as info:
        load_registry(plugin_paths=[RELAY_EXTRAS], pm=fresh_pm())
    assert str(info.value) == f"{RELAY_EXTRAS.absolute()}:7: type-modification of unknown type 'relay.Server'"
    assert info.value.hint == "2 more problem(s); run 'xlr check' on the plugin to list them all."


def test_a_connection_type_narrows_and_hides_inherited_properties(fixture_registry: TypeRegistry) -> None:
    server = fixture_registry.get("relay.Server")
    assert server.ancestors == ("configuration.HttpConnection", "xlrelease.Configuration")
    auth = server.properties["authenticationMethod"]
    assert (auth.kind, auth.enum_values, auth.default, auth.hidden) == (PropertyKind.ENUM, ("PAT",), "PAT", True)
    username = server.properties["username"]
    assert (username.hidden, username.default, username.password) == (True, "unused", False)
    assert server.properties["token"].password and not server.properties["token"].hidden
    inherited = server.properties["password"]
    assert inherited.password and inherited.source is not None
    assert Path(inherited.source.path).parts[-2:] == ("synthetic", "xlrelease.xml")  # the base type's
    check_path = server.properties["checkConfigurationPath"]
    assert (check_path.default, check_path.hidden) == ("/api/health", True)
    assert server.properties["scriptLocation"].default == "configuration/HttpConnectionCheck.py"
    assert server.properties["url"].default == "https://relay.example.test"


def test_task_properties_of_every_kind(fixture_registry: TypeRegistry) -> None:
    start = fixture_registry.get("relay.StartPipeline")
    assert start.ancestors == ("relay.Pipeline", "relay.Task", "xlrelease.PythonScript", "xlrelease.Task")
    assert start.script_location == "relay/StartPipeline.py"  # the default prefix/Name.py
    props = start.properties
    assert props["server"].kind is PropertyKind.CI and props["server"].referenced_type == "relay.Server"
    assert props["server"].required  # an input is required unless it says otherwise
    assert props["password"].password and not props["password"].required
    assert (props["iconLocation"].default, props["iconLocation"].hidden) == ("relay/relay.svg", True)
    assert (props["pollSeconds"].kind, props["pollSeconds"].default) == (PropertyKind.INTEGER, 10)
    assert (props["branch"].default, props["branch"].required) == ("main", True)
    priority = props["priority"]
    assert (priority.kind, priority.enum_values, priority.default) == (
        PropertyKind.ENUM,
        ("low", "normal", "urgent"),
        "normal",
    )
    assert (props["dryRun"].kind, props["dryRun"].default, props["dryRun"].required) == (
        PropertyKind.BOOLEAN,
        False,
        True,
    )
    assert (props["stages"].kind, props["stages"].default) == (PropertyKind.LIST_OF_STRING, ["build", "test"])
    assert (props["labels"].kind, props["labels"].default) == (PropertyKind.SET_OF_STRING, ["ci", "nightly"])
    assert (props["variables"].kind, props["variables"].default) == (
        PropertyKind.MAP_STRING_STRING,
        {"env": "qa", "region": "eu"},
    )
    assert (props["notBefore"].kind, props["notBefore"].default) == (PropertyKind.DATE, "2024-05-01T09:30:00+00:00")
    assert props["notes"].size == "large" and props["notes"].kind is PropertyKind.STRING
    assert props["attempt"].is_script and props["attempt"].kind is PropertyKind.INTEGER
    assert props["runId"].is_output and not props["runId"].required
    assert fixture_registry.get("relay.WaitForRun").script_location == "relay/wait.py"
    assert fixture_registry.get("relay.Task").virtual and fixture_registry.get("relay.Pipeline").virtual


def test_tiles_triggers_and_built_in_plugin_types_are_extended(fixture_registry: TypeRegistry) -> None:
    tile = fixture_registry.get("relay.RunsTile")
    assert tile.is_a("xlrelease.Tile") and not tile.is_python_script
    assert tile.properties["supportedScopes"].default == ["release", "folder"]
    assert (tile.properties["count"].default, tile.properties["count"].required) == (20, True)
    assert (tile.properties["width"].default, tile.properties["width"].hidden) == (1, True)  # inherited
    trigger = fixture_registry.get("relay.RunFinishedTrigger")
    assert trigger.is_a("xlrelease.ReleaseTrigger") and trigger.properties["pipeline"].required is False
    assert trigger.properties["lastRunId"].category == "variables"
    target = fixture_registry.get("relay.DeployTarget")
    assert (target.parent, target.plugin) == ("xldeploy.XLDeployServer", "relay")
    assert fixture_registry.plugin_of(fixture_registry.get("xldeploy.XLDeployServer")).name == "base"


def test_a_plugin_extends_and_modifies_the_types_of_another(fixture_registry: TypeRegistry) -> None:
    retry = fixture_registry.get("relayextras.Retry")
    assert retry.plugin == "relay-extras"
    assert retry.ancestors[:3] == ("relay.StartPipeline", "relay.Pipeline", "relay.Task")
    assert retry.script_location == "relayextras/retry.py"
    assert retry.properties["priority"].enum_values == ("low", "normal", "urgent")  # inherited across plugins
    # the type-modification of relay.Task applies before inheritance: every subtype has the new property
    for name in ("relay.Task", "relay.StartPipeline", "relay.WaitForRun", "relayextras.Retry"):
        timeout = fixture_registry.get(name).properties["timeoutSeconds"]
        assert (timeout.kind, timeout.default, timeout.required) == (PropertyKind.INTEGER, 600, False), name
    assert [str(ref) for ref in fixture_registry.get("relay.Task").modified_by] == [f"{RELAY_EXTRAS.absolute()}:10"]
    assert fixture_registry.get("relay.Server").properties["proxyPort"].default == 3128
    assert fixture_registry.get("relay.Task").plugin == "relay"  # modified, still relay's


def test_a_plugin_extends_a_type_of_the_bundled_plugin() -> None:
    registry = load_registry(plugin_paths=[JENKINS_BRANCHES], pm=fresh_pm())
    branch = registry.get("jenkins.BranchBuild")
    assert branch.ancestors[0] == "jenkins.Build" and branch.plugin == "jenkins-branches"
    assert branch.script_location == "jenkins/branches/Build.py"
    assert branch.properties["jenkinsServer"].referenced_type == "jenkins.Server"
    assert branch.properties["iconLocation"].default == "jenkins/jenkins.png"
    assert (branch.properties["branch"].required, branch.properties["branchUrl"].is_output) == (True, True)


def test_the_fixtures_use_every_property_kind_the_corpus_uses(fixture_registry: TypeRegistry) -> None:
    kinds = {
        prop.kind
        for task_type in fixture_registry.types()
        if task_type.plugin != "base"
        for prop in task_type.properties.values()
        if prop.source is not None and prop.source.path.startswith(str(FIXTURES.absolute()))
    }
    assert kinds >= {
        PropertyKind.STRING,
        PropertyKind.INTEGER,
        PropertyKind.BOOLEAN,
        PropertyKind.DATE,
        PropertyKind.ENUM,
        PropertyKind.CI,
        PropertyKind.LIST_OF_STRING,
        PropertyKind.SET_OF_STRING,
        PropertyKind.MAP_STRING_STRING,
    }, kinds


# --- conformance: the public corpus -------------------------------------------------------------------------


@pytest.mark.corpus
def test_the_corpus_is_there() -> None:
    assert len(FILES) == 7 and corpus("xlr", DOCS_NAME) in FILES


@pytest.fixture(scope="module")
def corpus_registry() -> TypeRegistry:
    return load_registry(plugin_paths=corpus_files("xlr"), pm=fresh_pm(), include_bundled=False)


@pytest.mark.corpus
def test_every_corpus_file_loads_together(corpus_registry: TypeRegistry) -> None:
    per_plugin = types_per_plugin(corpus_registry)
    assert {plugin_name(f) for f in FILES} <= set(per_plugin)
    assert all(per_plugin[plugin_name(f)] > 0 for f in FILES), per_plugin


@pytest.mark.corpus
@pytest.mark.parametrize("path", PLUGIN_FILES, ids=lambda p: p.name)
def test_each_plugin_loads_next_to_the_bundled_plugins(path: Path) -> None:
    registry = load_registry(plugin_paths=[path], pm=fresh_pm())
    assert any(t.plugin == path.name.removesuffix(".synthetic.xml") for t in registry.types())


@pytest.mark.corpus
def test_docs_file_conflicts_with_the_bundled_jenkins_plugin() -> None:
    with pytest.raises(DefinitionError, match=r"type 'jenkins\.Server' is already defined at .*plugins/jenkins/"):
        load_registry(plugin_paths=[corpus("xlr", DOCS_NAME)], pm=fresh_pm())


@pytest.mark.corpus
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
