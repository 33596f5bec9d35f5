"""The Jenkins test server, exercised over HTTP with requests: status codes, headers and JSON as Jenkins'."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import requests

from xlr_runtime.clock import VirtualClock
from xlr_runtime.errors import NotFoundError, StateError
from xlr_runtime.testing.jenkins import JenkinsServer, Trigger


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(1_700_000_000.0)


@pytest.fixture
def jenkins(clock: VirtualClock) -> JenkinsServer:
    with JenkinsServer(clock=clock.now) as server:
        yield server


def get(server: JenkinsServer, path: str, **kwargs: object) -> requests.Response:
    return requests.get(server.url + path, timeout=5, **kwargs)


def post(server: JenkinsServer, path: str, **kwargs: object) -> requests.Response:
    return requests.post(server.url + path, timeout=5, **kwargs)


def trigger(server: JenkinsServer, job_path: str, endpoint: str = "build", **kwargs: object) -> int:
    response = post(server, f"{job_path}/{endpoint}", **kwargs)
    assert response.status_code == 201, response.text
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


def test_root_lists_jobs_and_folders_and_says_whether_crumbs_and_security_are_on(jenkins: JenkinsServer) -> None:
    jenkins.add_job("hello")
    jenkins.add_folder("team")
    response = get(jenkins, "/api/json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json;charset=utf-8"
    assert response.headers["X-Jenkins"] == "2.440.3"
    root = response.json()
    assert root["_class"] == "hudson.model.Hudson"
    assert root["useCrumbs"] is False
    assert root["useSecurity"] is False
    assert root["url"] == jenkins.url + "/"
    assert root["jobs"] == [
        {
            "_class": "hudson.model.FreeStyleProject",
            "name": "hello",
            "url": f"{jenkins.url}/job/hello/",
            "color": "notbuilt",
        },
        {"_class": "com.cloudbees.hudson.plugins.folder.Folder", "name": "team", "url": f"{jenkins.url}/job/team/"},
    ]


def test_server_listens_on_a_free_loopback_port() -> None:
    with JenkinsServer() as first, JenkinsServer() as second:
        assert first.url.startswith("http://127.0.0.1:")
        assert first.port != second.port
        assert first.running


def test_job_json_carries_parameter_definitions_in_property_as_jenkins_does(jenkins: JenkinsServer) -> None:
    jenkins.add_job("deploy", parameters={"ENV": "dev"})
    job = get(jenkins, "/job/deploy/api/json").json()
    assert job["_class"] == "hudson.model.FreeStyleProject"
    assert (job["name"], job["fullName"], job["url"]) == ("deploy", "deploy", f"{jenkins.url}/job/deploy/")
    assert job["buildable"] is True
    assert job["inQueue"] is False
    assert job["lastBuild"] is None
    assert job["nextBuildNumber"] == 1
    assert job["property"] == [
        {
            "_class": "hudson.model.ParametersDefinitionProperty",
            "parameterDefinitions": [
                {
                    "_class": "hudson.model.StringParameterDefinition",
                    "defaultParameterValue": {
                        "_class": "hudson.model.StringParameterValue",
                        "name": "ENV",
                        "value": "dev",
                    },
                    "description": "",
                    "name": "ENV",
                    "type": "StringParameterDefinition",
                }
            ],
        }
    ]
    jenkins.add_job("plain")
    assert get(jenkins, "/job/plain/api/json").json()["property"] == []


def test_folders_nest_with_job_segments_and_list_their_children(jenkins: JenkinsServer) -> None:
    jenkins.add_job("team/app/deploy")
    folder = get(jenkins, "/job/team/job/app/api/json").json()
    assert folder["_class"] == "com.cloudbees.hudson.plugins.folder.Folder"
    assert folder["fullName"] == "team/app"
    assert folder["jobs"] == [
        {
            "_class": "hudson.model.FreeStyleProject",
            "name": "deploy",
            "url": f"{jenkins.url}/job/team/job/app/job/deploy/",
            "color": "notbuilt",
        }
    ]
    job = get(jenkins, "/job/team/job/app/job/deploy/api/json").json()
    assert (job["name"], job["fullName"], job["fullDisplayName"]) == (
        "deploy",
        "team/app/deploy",
        "team » app » deploy",
    )


def test_job_names_with_spaces_are_url_encoded(jenkins: JenkinsServer) -> None:
    jenkins.add_job("my folder/my job")
    job = get(jenkins, "/job/my%20folder/job/my%20job/api/json").json()
    assert job["url"] == f"{jenkins.url}/job/my%20folder/job/my%20job/"


@pytest.mark.parametrize(
    "path",
    [
        "/job/nope/api/json",
        "/job/team/job/nope/api/json",
        "/job/team/job/app/job/deploy/job/x/api/json",
        "/job/team/job/app/job/deploy/7/api/json",
        "/queue/item/99/api/json",
        "/crumbIssuer/api/json",
        "/nothing",
    ],
)
def test_unknown_things_are_404(jenkins: JenkinsServer, path: str) -> None:
    jenkins.add_job("team/app/deploy")
    response = get(jenkins, path)
    assert response.status_code == 404
    assert "HTTP ERROR 404" in response.text
    assert post(jenkins, "/job/nope/build").status_code == 404


def test_build_answers_201_with_the_queue_item_location(jenkins: JenkinsServer, clock: VirtualClock) -> None:
    jenkins.add_job("hello")
    response = post(jenkins, "/job/hello/build")
    assert response.status_code == 201
    assert response.headers["Location"] == f"{jenkins.url}/queue/item/1/"
    assert response.text == ""
    item = get(jenkins, "/queue/item/1/api/json").json()
    assert item["_class"] == "hudson.model.Queue$LeftItem"
    assert item["id"] == 1
    assert item["url"] == "queue/item/1/"
    assert item["cancelled"] is False
    assert item["why"] is None
    assert item["inQueueSince"] == 1_700_000_000_000
    assert item["task"] == {
        "_class": "hudson.model.FreeStyleProject",
        "name": "hello",
        "url": f"{jenkins.url}/job/hello/",
        "color": "blue",
    }
    assert item["executable"] == {
        "_class": "hudson.model.FreeStyleBuild",
        "number": 1,
        "url": f"{jenkins.url}/job/hello/1/",
    }
    assert jenkins.triggers == [Trigger("hello", "build", {}, None, 1)]


def test_build_json_has_number_url_result_building_duration(jenkins: JenkinsServer, clock: VirtualClock) -> None:
    jenkins.add_job("slow", duration=30)
    trigger(jenkins, "/job/slow")
    get(jenkins, "/queue/item/1/api/json")
    running = get(jenkins, "/job/slow/1/api/json").json()
    assert running["_class"] == "hudson.model.FreeStyleBuild"
    assert (running["number"], running["id"], running["queueId"]) == (1, "1", 1)
    assert running["url"] == f"{jenkins.url}/job/slow/1/"
    assert (running["building"], running["result"], running["duration"]) == (True, None, 0)
    assert running["estimatedDuration"] == 30_000
    assert running["timestamp"] == 1_700_000_000_000
    assert running["fullDisplayName"] == "slow #1"
    assert get(jenkins, "/job/slow/api/json").json()["color"] == "notbuilt_anime"
    clock.advance(30)
    done = get(jenkins, "/job/slow/1/api/json").json()
    assert (done["building"], done["result"], done["duration"]) == (False, "SUCCESS", 30_000)
    assert get(jenkins, "/job/slow/lastBuild/api/json").json()["number"] == 1
    job = get(jenkins, "/job/slow/api/json").json()
    assert job["color"] == "blue"
    assert job["lastSuccessfulBuild"] == {
        "_class": "hudson.model.FreeStyleBuild",
        "number": 1,
        "url": f"{jenkins.url}/job/slow/1/",
    }


def test_a_failing_job_ends_with_failure_and_a_red_ball(jenkins: JenkinsServer) -> None:
    jenkins.add_job("broken", result="FAILURE")
    trigger(jenkins, "/job/broken")
    build = get(jenkins, "/job/broken/1/api/json").json()
    assert (build["result"], build["building"]) == ("FAILURE", False)
    assert build["duration"] == 1  # a finished build never reports 0 ms
    job = get(jenkins, "/job/broken/api/json").json()
    assert job["color"] == "red"
    assert job["lastFailedBuild"]["number"] == 1
    assert get(jenkins, "/job/broken/1/consoleText").text.endswith("Finished: FAILURE\n")
    assert get(jenkins, "/job/broken/1/console").headers["Content-Type"] == "text/html;charset=utf-8"


def test_queue_hands_out_the_build_number_after_n_polls(jenkins: JenkinsServer) -> None:
    jenkins.add_job("busy", queue_polls=2, next_build_number=41)
    trigger(jenkins, "/job/busy")
    assert get(jenkins, "/job/busy/api/json").json()["inQueue"] is True
    for _ in range(2):
        item = get(jenkins, "/queue/item/1/api/json").json()
        assert item["_class"] == "hudson.model.Queue$BuildableItem"
        assert item["why"] == "Waiting for next available executor"
        assert item["buildable"] is True
        assert "executable" not in item
    assert [i["id"] for i in get(jenkins, "/queue/api/json").json()["items"]] == [1]
    item = get(jenkins, "/queue/item/1/api/json").json()
    assert item["executable"]["number"] == 41
    assert get(jenkins, "/queue/api/json").json() == {
        "_class": "hudson.model.Queue",
        "discoverableItems": [],
        "items": [],
    }


def test_queue_delay_and_build_time_follow_the_injected_clock(jenkins: JenkinsServer, clock: VirtualClock) -> None:
    jenkins.add_job("timed", queue_delay=10, duration=20)
    trigger(jenkins, "/job/timed")
    clock.advance(9.9)
    assert "executable" not in get(jenkins, "/queue/item/1/api/json").json()
    clock.advance(0.1)
    assert get(jenkins, "/queue/item/1/api/json").json()["executable"]["number"] == 1
    clock.advance(19)
    assert get(jenkins, "/job/timed/1/api/json").json()["building"] is True
    clock.advance(1)
    assert get(jenkins, "/job/timed/1/api/json").json()["result"] == "SUCCESS"
    assert jenkins.build("timed", 1).started_at == 1_700_000_010.0


def test_build_polls_keep_a_build_running_for_n_polls(jenkins: JenkinsServer) -> None:
    jenkins.add_job("polled", build_polls=3, result="UNSTABLE")
    trigger(jenkins, "/job/polled")
    get(jenkins, "/queue/item/1/api/json")
    states = [get(jenkins, "/job/polled/1/api/json").json()["result"] for _ in range(4)]
    assert states == [None, None, None, "UNSTABLE"]


def test_build_with_parameters_records_them_and_fills_in_defaults(jenkins: JenkinsServer) -> None:
    jenkins.add_job("deploy", parameters={"ENV": "dev", "VERSION": "1.0"})
    trigger(jenkins, "/job/deploy", "buildWithParameters", params={"VERSION": "2.0 beta&x", "IGNORED": "y"})
    assert jenkins.triggers == [
        Trigger("deploy", "buildWithParameters", {"VERSION": "2.0 beta&x", "IGNORED": "y"}, None, 1)
    ]
    item = get(jenkins, "/queue/item/1/api/json").json()
    assert item["params"] == "\nVERSION=2.0 beta&x"
    build = get(jenkins, "/job/deploy/1/api/json").json()
    assert build["actions"][0] == {
        "_class": "hudson.model.ParametersAction",
        "parameters": [
            {"_class": "hudson.model.StringParameterValue", "name": "ENV", "value": "dev"},
            {"_class": "hudson.model.StringParameterValue", "name": "VERSION", "value": "2.0 beta&x"},
        ],
    }
    assert jenkins.build("deploy", 1).parameters == {"ENV": "dev", "VERSION": "2.0 beta&x"}


def test_parameters_may_come_as_a_form_body(jenkins: JenkinsServer) -> None:
    jenkins.add_job("deploy", parameters={"ENV": "dev"})
    trigger(jenkins, "/job/deploy", "buildWithParameters", data={"ENV": "prod"})
    assert jenkins.triggers[0].parameters == {"ENV": "prod"}


def test_wrong_trigger_endpoints_answer_as_jenkins_does(jenkins: JenkinsServer) -> None:
    jenkins.add_job("deploy", parameters={"ENV": "dev"})
    jenkins.add_job("plain")
    jenkins.add_job("off", disabled=True)
    build_on_parameterised = post(jenkins, "/job/deploy/build")
    assert (build_on_parameterised.status_code, "Nothing is submitted" in build_on_parameterised.text) == (400, True)
    params_on_plain = post(jenkins, "/job/plain/buildWithParameters")
    assert (params_on_plain.status_code, "This build is not parameterized!" in params_on_plain.text) == (500, True)
    assert get(jenkins, "/job/plain/build").status_code == 405
    disabled = post(jenkins, "/job/off/build")
    assert (disabled.status_code, "off is not buildable" in disabled.text) == (409, True)
    assert get(jenkins, "/job/off/api/json").json()["color"] == "disabled"
    assert jenkins.triggers == []


def test_an_identical_pending_request_is_folded_into_the_queued_item(jenkins: JenkinsServer) -> None:
    jenkins.add_job("busy", queue_polls=5, parameters={"A": "1"})
    first = trigger(jenkins, "/job/busy", "buildWithParameters", params={"A": "x"})
    same = trigger(jenkins, "/job/busy", "buildWithParameters", params={"A": "x"})
    other = trigger(jenkins, "/job/busy", "buildWithParameters", params={"A": "y"})
    assert (first, same, other) == (1, 1, 2)
    assert [t.queue_id for t in jenkins.triggers] == [1, 1, 2]


def test_crumb_issuer_and_crumb_required_for_post() -> None:
    with JenkinsServer(crumbs=True) as jenkins:
        jenkins.add_job("hello")
        crumb = get(jenkins, "/crumbIssuer/api/json").json()
        assert crumb == {
            "_class": "hudson.security.csrf.DefaultCrumbIssuer",
            "crumb": jenkins.crumb_for(None),
            "crumbRequestField": "Jenkins-Crumb",
        }
        missing = post(jenkins, "/job/hello/build")
        assert missing.status_code == 403
        assert "No valid crumb was included in the request" in missing.text
        assert post(jenkins, "/job/hello/build", headers={"Jenkins-Crumb": "forged"}).status_code == 403
        assert post(jenkins, "/job/hello/build", headers={"Jenkins-Crumb": crumb["crumb"]}).status_code == 201
        assert post(jenkins, "/job/hello/build", data={"Jenkins-Crumb": crumb["crumb"]}).status_code == 201
        assert get(jenkins, "/api/json").json()["useCrumbs"] is True


def test_the_crumb_header_is_named_by_crumb_request_field() -> None:
    with JenkinsServer(crumbs=True, crumb_request_field=".crumb") as jenkins:
        jenkins.add_job("hello")
        crumb = get(jenkins, "/crumbIssuer/api/json").json()
        assert crumb["crumbRequestField"] == ".crumb"
        assert post(jenkins, "/job/hello/build", headers={"Jenkins-Crumb": crumb["crumb"]}).status_code == 403
        assert post(jenkins, "/job/hello/build", headers={".crumb": crumb["crumb"]}).status_code == 201


def test_crumbs_are_per_user() -> None:
    with JenkinsServer(crumbs=True, users={"ann": "a", "bob": "b"}) as jenkins:
        jenkins.add_job("hello")
        ann = get(jenkins, "/crumbIssuer/api/json", auth=("ann", "a")).json()["crumb"]
        assert post(jenkins, "/job/hello/build", auth=("bob", "b"), headers={"Jenkins-Crumb": ann}).status_code == 403
        assert post(jenkins, "/job/hello/build", auth=("ann", "a"), headers={"Jenkins-Crumb": ann}).status_code == 201


def test_basic_auth_wrong_password_is_401_with_a_challenge() -> None:
    with JenkinsServer(users={"admin": "secret"}) as jenkins:
        jenkins.add_job("hello")
        wrong = get(jenkins, "/job/hello/api/json", auth=("admin", "nope"))
        assert wrong.status_code == 401
        assert wrong.headers["WWW-Authenticate"] == 'Basic realm="Jenkins"'
        assert "Invalid password/token for user: admin" in wrong.text
        assert get(jenkins, "/api/json", auth=("ghost", "x")).status_code == 401
        garbage = get(jenkins, "/api/json", headers={"Authorization": "Basic !!!"})
        assert (garbage.status_code, "Malformed HTTP basic Authorization header" in garbage.text) == (401, True)
        assert get(jenkins, "/job/hello/api/json", auth=("admin", "secret")).status_code == 200
        assert post(jenkins, "/job/hello/build", auth=("admin", "secret")).status_code == 201
        assert jenkins.triggers[0].user == "admin"
        assert (
            get(jenkins, "/job/hello/1/api/json", auth=("admin", "secret")).json()["actions"][0]["causes"][0][
                "shortDescription"
            ]
            == "Started by user admin"
        )
        assert get(jenkins, "/api/json", auth=("admin", "secret")).json()["useSecurity"] is True


def test_anonymous_may_read_but_not_build_unless_reading_is_off() -> None:
    with JenkinsServer(users={"admin": "secret"}) as jenkins:
        jenkins.add_job("hello")
        assert get(jenkins, "/job/hello/api/json").status_code == 200
        refused = post(jenkins, "/job/hello/build")
        assert refused.status_code == 403
        assert refused.headers["X-You-Are-Authenticated-As"] == "anonymous"
        assert "anonymous is missing the Job/Build permission" in refused.text
    with JenkinsServer(users={"admin": "secret"}, anonymous_read=False) as jenkins:
        closed = get(jenkins, "/api/json")
        assert closed.status_code == 403
        assert "Authentication required" in closed.text
        assert closed.headers["X-Required-Permission"] == "hudson.model.Hudson.Read"


def test_requests_are_recorded_without_the_password() -> None:
    with JenkinsServer(users={"admin": "secret"}) as jenkins:
        get(jenkins, "/api/json?tree=jobs[name]", auth=("admin", "secret"))
        recorded = jenkins.requests[-1]
        assert (recorded.method, recorded.path, recorded.query, recorded.user, recorded.status) == (
            "GET",
            "/api/json",
            {"tree": ["jobs[name]"]},
            "admin",
            200,
        )
        assert recorded.headers["Authorization"] == "Basic ********"
        encoded = base64.b64encode(b"admin:secret").decode()
        assert all(encoded not in str(r.headers) for r in jenkins.requests)


def test_cancel_a_queue_item_through_the_api(jenkins: JenkinsServer) -> None:
    jenkins.add_job("busy", queue_polls=10)
    item_id = trigger(jenkins, "/job/busy")
    jenkins.cancel_queue_item(item_id)
    item = get(jenkins, f"/queue/item/{item_id}/api/json").json()
    assert item["_class"] == "hudson.model.Queue$LeftItem"
    assert (item["cancelled"], item["executable"]) == (True, None)
    assert jenkins.job("busy").builds == {}
    with pytest.raises(StateError, match="queue item 1 already left the queue"):
        jenkins.cancel_queue_item(item_id)
    with pytest.raises(NotFoundError, match="no queue item 7"):
        jenkins.cancel_queue_item(7)


def test_cancel_item_endpoint_answers_204_404_and_500(jenkins: JenkinsServer) -> None:
    jenkins.add_job("busy", queue_polls=10)
    jenkins.add_job("quick")
    waiting = trigger(jenkins, "/job/busy")
    started = trigger(jenkins, "/job/quick")
    get(jenkins, f"/queue/item/{started}/api/json")
    cancelled = post(jenkins, f"/queue/cancelItem?id={waiting}")
    assert (cancelled.status_code, cancelled.text) == (204, "")
    assert jenkins.queue_item(waiting).cancelled is True
    unknown = post(jenkins, "/queue/cancelItem?id=42")
    assert (unknown.status_code, "Provided id (42) not found" in unknown.text) == (404, True)
    left = post(jenkins, f"/queue/cancelItem?id={started}")
    assert (left.status_code, f"Could not cancel run for id {started}" in left.text) == (500, True)
    assert get(jenkins, f"/queue/cancelItem?id={waiting}").status_code == 405


def test_stop_and_start_keep_the_url_and_the_state(jenkins: JenkinsServer, clock: VirtualClock) -> None:
    jenkins.add_job("long", duration=60)
    trigger(jenkins, "/job/long")
    get(jenkins, "/queue/item/1/api/json")
    url = jenkins.url
    jenkins.stop()
    assert not jenkins.running
    with pytest.raises(requests.ConnectionError):
        get(jenkins, "/job/long/1/api/json")
    clock.advance(60)  # the build goes on while the web front end is down
    jenkins.start()
    assert jenkins.url == url
    assert get(jenkins, "/job/long/1/api/json").json()["result"] == "SUCCESS"


def test_finish_build_ends_a_running_build_now(jenkins: JenkinsServer, clock: VirtualClock) -> None:
    jenkins.add_job("long", duration=600)
    trigger(jenkins, "/job/long")
    jenkins.queue_item(1)
    clock.advance(5)
    build = jenkins.finish_build("long", 1, "ABORTED")
    assert (build.result, build.finished_at) == ("ABORTED", 1_700_000_005.0)
    assert get(jenkins, "/job/long/1/api/json").json()["duration"] == 5000
    with pytest.raises(StateError, match=r"long #1 already finished \(ABORTED\)"):
        jenkins.finish_build("long", 1)


def test_path_prefix_serves_jenkins_under_a_context_path() -> None:
    with JenkinsServer(path_prefix="/jenkins/") as jenkins:
        jenkins.add_job("hello")
        assert jenkins.url.endswith("/jenkins")
        assert get(jenkins, "/job/hello/api/json").json()["url"] == f"{jenkins.url}/job/hello/"
        assert requests.get(jenkins.url.removesuffix("/jenkins") + "/job/hello/api/json", timeout=5).status_code == 404
        assert post(jenkins, "/job/hello/build").headers["Location"] == f"{jenkins.url}/queue/item/1/"


def test_configuration_errors(jenkins: JenkinsServer) -> None:
    jenkins.add_job("a/b")
    with pytest.raises(StateError, match="'a/b' already exists"):
        jenkins.add_job("a/b")
    with pytest.raises(StateError, match="'a/b' is a job, not a folder"):
        jenkins.add_job("a/b/c")
    with pytest.raises(StateError, match="unknown build result 'GREEN'"):
        jenkins.add_job("x", result="GREEN")
    with pytest.raises(NotFoundError, match="no job 'zzz'"):
        jenkins.job("zzz")
    with pytest.raises(NotFoundError, match="job 'a/b' has no build #3"):
        jenkins.build("a/b", 3)


def test_a_starting_jenkins_answers_503_to_everything(jenkins: JenkinsServer) -> None:
    jenkins.add_job("hello")
    jenkins.starting = True
    response = get(jenkins, "/job/hello/api/json")
    assert (response.status_code, "Jenkins is getting ready to work" in response.text) == (503, True)
    assert post(jenkins, "/job/hello/build").status_code == 503
    jenkins.starting = False
    assert get(jenkins, "/job/hello/api/json").status_code == 200


def test_the_example_in_docs_jenkins_md_runs() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "jenkins.md").read_text(encoding="utf-8")
    source = doc.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {}
    exec(compile(source, "docs/jenkins.md", "exec"), namespace)
    namespace["test_my_plugin_triggers_a_build"]()  # type: ignore[operator]
