"""Rundeck's own API against a real ``xlr serve`` process, driven by a small Rundeck API client written as a
Rundeck user would write one with ``requests``: import jobs, list and export them, run one with options (one of
them secure), poll its execution, read its output by offsets, abort a long one, delete a job."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import yaml
from lxml import etree

from tests.http_helpers import TIMEOUT, Api, served_api
from tests.rundeck_client import Rundeck
from tests.waiting import wait_until
from xlr_runtime.http.rundeck.openapi import PATHS
from xlr_runtime.scripting.masking import MASK

SECRET = "canary-secure-option-5d1e77"
DEPLOY = f"""\
- name: deploy
  group: web/app
  uuid: 5b0c6e0a-0001-4000-8000-000000000001
  description: Deploy the app
  loglevel: INFO
  options:
  - name: env
    required: true
    enforced: true
    values: [dev, prod]
  - name: version
    regex: '[0-9]+[.][0-9]+'
    value: '1.0'
  - name: password
    secure: true
    valueExposed: true
    value: {SECRET}-default
  sequence:
    commands:
    - exec: echo deploying ${{option.version}} to ${{option.env}}
    - exec: echo "the password is $RD_OPTION_PASSWORD"
    - exec: echo done
- name: long
  uuid: 5b0c6e0a-0002-4000-8000-000000000002
  description: Sleeps
  sequence:
    commands:
    - exec: echo sleeping && sleep 3600
- name: other
  group: ops
  uuid: 5b0c6e0a-0003-4000-8000-000000000003
  description: ''
  sequence:
    commands:
    - exec: echo other
"""


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from served_api(tmp_path_factory.mktemp("rundeck-api"))


@pytest.fixture(scope="module")
def rundeck(api: Api) -> Rundeck:
    client = Rundeck(api.url.removesuffix("/api/v1"), api.token)
    response = client.import_jobs("web", DEPLOY)
    assert response.status_code == 200, response.text
    return client


def test_system_info_projects_and_the_supported_api_versions(rundeck: Rundeck) -> None:
    info = rundeck.get("/system/info")["system"]
    assert info["rundeck"]["apiversion"] == 47
    assert info["executions"]["executionMode"] == "active"
    projects = rundeck.get("/projects")
    assert "web" in [p["name"] for p in projects]
    assert f"{rundeck.base}/project/web" in [p["url"] for p in projects]
    assert rundeck.get("/project/web")["name"] == "web"
    missing = rundeck.call("GET", "/project/nope")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": True,
        "apiversion": 47,
        "errorCode": "api.error.item.doesnotexist",
        "message": "project does not exist: nope",
    }
    for version in (14, 41, 47):
        listed = Rundeck(rundeck.base.rsplit("/api/", 1)[0], None, version).get("/projects")
        assert f"{version}/project/web" in [p["url"].rsplit("/api/", 1)[1] for p in listed]
    for version, reason in ((13, "Minimum supported version: 14"), (48, "Current version: 47")):
        old = Rundeck(rundeck.base.rsplit("/api/", 1)[0], None, version).call("GET", "/projects")
        assert old.status_code == 400
        body = old.json()
        assert body["errorCode"] == "api.error.api-version.unsupported"
        assert (
            body["message"] == f'Unsupported API Version "{version}". API Request: /api/{version}/projects. '
            f"Reason: {reason}"
        )


def test_a_project_is_created_once_with_a_name_rundeck_accepts(rundeck: Rundeck) -> None:
    created = rundeck.call("POST", "/projects", json={"name": "fresh-1.0", "config": {"a": "b"}})
    assert created.status_code == 201, created.text
    assert created.json()["url"] == f"{rundeck.base}/project/fresh-1.0"
    assert rundeck.get("/project/fresh-1.0/jobs") == []
    again = rundeck.call("POST", "/projects", json={"name": "fresh-1.0"})
    assert again.status_code == 409 and again.json()["errorCode"] == "api.error.item.alreadyexists", again.text
    bad = rundeck.call("POST", "/projects", json={"name": "a/b"})
    assert bad.status_code == 400 and "a/b" in bad.json()["message"]


def test_jobs_are_listed_with_rundecks_filters(rundeck: Rundeck) -> None:
    names = lambda **params: [(j["group"], j["name"]) for j in rundeck.get("/project/web/jobs", **params)]  # noqa: E731
    assert names() == [(None, "long"), ("ops", "other"), ("web/app", "deploy")]
    assert names(groupPath="web") == [("web/app", "deploy")]
    assert names(groupPath="-") == [(None, "long")]
    assert names(jobFilter="LO") == [(None, "long"), ("web/app", "deploy")]
    assert names(jobExactFilter="other") == [("ops", "other")]
    assert names(idlist="5b0c6e0a-0002-4000-8000-000000000002") == [(None, "long")]
    deploy = rundeck.get("/project/web/jobs", groupPathExact="web/app")[0]
    assert deploy["id"] == "5b0c6e0a-0001-4000-8000-000000000001"
    assert deploy["href"] == f"{rundeck.base}/job/{deploy['id']}"
    assert (deploy["project"], deploy["description"], deploy["enabled"]) == ("web", "Deploy the app", True)


def test_export_round_trips_and_never_holds_a_secure_value(rundeck: Rundeck) -> None:
    xml = rundeck.call("GET", "/project/web/jobs/export", params={"format": "xml"})
    assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/xml")
    exported = rundeck.call("GET", "/project/web/jobs/export", params={"format": "yaml", "groupPath": "web"}).text
    [job] = yaml.safe_load(exported)
    assert job["name"] == "deploy" and SECRET not in exported and SECRET not in xml.text
    assert {o["name"]: o.get("value") for o in job["options"]} == {"env": None, "version": "1.0", "password": None}
    one = rundeck.call("GET", f"/job/{job['uuid']}", params={"format": "yaml"}).text
    assert one == exported
    assert rundeck.get(f"/job/{job['uuid']}")[0]["name"] == "deploy"  # JSON, from the Accept header
    again = rundeck.import_jobs("copy", xml.text, "xml", dupeOption="create", uuidOption="remove").json()
    assert [j["name"] for j in again["succeeded"]] == ["long", "other", "deploy"] and not again["skipped"]
    assert all(j["id"] != job["uuid"] for j in again["succeeded"])
    skipped = rundeck.import_jobs("web", exported, dupeOption="skip").json()
    assert (skipped["succeeded"], skipped["failed"], [j["name"] for j in skipped["skipped"]]) == ([], [], ["deploy"])
    as_xml = rundeck.call(
        "POST",
        "/project/web/jobs/import",
        params={"fileformat": "yaml", "dupeOption": "skip"},
        data=exported.encode(),
        headers={"Content-Type": "application/yaml", "Accept": "application/xml"},
    )
    root = etree.fromstring(as_xml.content)
    assert (root.tag, root.find("succeeded").get("count"), root.find("skipped").get("count")) == ("result", "0", "1")
    assert root.find("skipped/job").findtext("id") == job["uuid"] and root.find("skipped/job").get("index") == "0"


def test_bad_definitions_are_a_400_naming_the_line_and_change_nothing(rundeck: Rundeck) -> None:
    before = rundeck.call("GET", "/project/web/jobs/export", params={"format": "xml"}).text
    bad = DEPLOY.replace("- exec: echo other", "- exec: echo other\n      bogus: [")
    response = rundeck.import_jobs("web", bad, dupeOption="update")
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] is True and body["errorCode"] == "api.error.jobs.import.invalid"
    assert body["message"].startswith("request body:"), body
    assert rundeck.import_jobs("web", DEPLOY, "xml").status_code == 400
    wrong = rundeck.import_jobs("web", DEPLOY, dupeOption="sometimes")
    assert wrong.status_code == 400 and "dupeOption" in wrong.json()["message"]
    assert rundeck.call("GET", "/project/web/jobs/export", params={"format": "xml"}).text == before


def test_a_job_runs_with_options_and_its_output_is_read_by_offsets(rundeck: Rundeck) -> None:
    job_id = "5b0c6e0a-0001-4000-8000-000000000001"
    refused = rundeck.run(job_id, options={"env": "staging"})
    assert refused.status_code == 400 and refused.json()["errorCode"] == "api.error.job.options-invalid"
    started = rundeck.run(job_id, argString="-version 2.5", options={"env": "prod", "password": SECRET})
    assert started.status_code == 200, started.text
    execution = started.json()
    assert execution["job"]["id"] == job_id and execution["project"] == "web"
    assert execution["user"] == "tests"  # the token's name, as Rundeck shows the token's user
    assert execution["href"] == f"{rundeck.base}/execution/{execution['id']}"
    done = rundeck.wait_done(execution["id"])
    assert done["status"] == "succeeded", done
    assert done["date-ended"]["unixtime"] >= done["date-started"]["unixtime"]
    whole = rundeck.output(execution["id"])
    assert (whole["completed"], whole["execCompleted"]) == (True, True)
    logs = [entry["log"] for entry in whole["entries"]]
    assert "deploying 2.5 to prod" in logs and "done" in logs, logs
    entries, offset = [], "0"
    while True:
        page = rundeck.output(execution["id"], offset=offset, maxlines=1)
        entries += page["entries"]
        offset = page["offset"]
        if page["completed"]:
            break
        assert len(page["entries"]) == 1, page
    assert entries == whole["entries"]
    assert rundeck.output(execution["id"], offset=offset)["entries"] == []
    unchanged = rundeck.output(execution["id"], offset=offset, lastmod=whole["lastModified"])
    assert unchanged["unmodified"] is True and unchanged["entries"] == []
    assert "unmodified" not in rundeck.output(execution["id"], offset=0, lastmod=whole["lastModified"])
    listed = rundeck.get("/project/web/executions", max=1)
    assert listed["paging"]["count"] == 1 and listed["executions"][0]["id"] == execution["id"]


def test_a_run_takes_its_options_as_query_parameters_too(rundeck: Rundeck) -> None:
    response = rundeck.call(
        "POST",
        "/job/5b0c6e0a-0001-4000-8000-000000000001/run",
        params={"option.env": "dev", "argString": "-version 3.1"},
    )
    assert response.status_code == 200, response.text
    execution = rundeck.wait_done(response.json()["id"])
    assert execution["status"] == "succeeded", execution
    assert execution["argstring"].startswith("-env dev -version 3.1"), execution
    as_other = rundeck.run("5b0c6e0a-0001-4000-8000-000000000001", options={"env": "dev"}, asUser="root")
    assert as_other.status_code == 403 and as_other.json()["error"] is True


def test_no_rundeck_endpoint_ever_shows_a_secure_value(rundeck: Rundeck) -> None:
    job_id = "5b0c6e0a-0001-4000-8000-000000000001"
    execution = rundeck.run(job_id, options={"env": "dev", "password": SECRET}).json()
    assert rundeck.wait_done(execution["id"])["status"] == "succeeded"
    logs = [e["log"] for e in rundeck.output(execution["id"])["entries"]]
    assert f"the password is {MASK}" in logs, logs
    server, bodies = rundeck.base.rsplit("/api/", 1)[0], []
    node = rundeck.get(f"/execution/{execution['id']}/state")["serverNode"]
    for path, item in PATHS.items():
        if "get" not in item:
            continue
        concrete = path.replace("{version}", "47").replace("{project}", "web").replace("{stepctx}", "2")
        concrete = concrete.replace("{node}", node).replace("{name}", node)
        concrete = concrete.replace("{id}", str(execution["id"]) if "/execution/" in path else job_id)
        declared = [p for p in item["get"]["parameters"] if p["name"] == "format"]
        forms = [{"format": fmt} for fmt in (declared[0]["schema"]["enum"] if declared else [])]
        for params, accept in [(form, "*/*") for form in forms] + [({}, "application/xml"), ({}, "application/json")]:
            response = rundeck.session.get(
                server + concrete, params=params, headers={"Accept": accept}, timeout=TIMEOUT
            )
            assert response.status_code == 200, (concrete, params, accept, response.text)
            bodies.append(response.text)
    writes = [
        ("POST", f"/execution/{execution['id']}/abort", {}),
        ("POST", f"/job/{job_id}/schedule/disable", {}),
        ("POST", f"/job/{job_id}/schedule/enable", {}),
        ("POST", f"/job/{job_id}/execution/disable", {}),
        ("POST", f"/job/{job_id}/execution/enable", {}),
        ("POST", "/jobs/schedule/enable", {"ids": job_id}),
        ("POST", "/jobs/execution/enable", {"idlist": job_id}),
        ("POST", "/executions/delete", {"ids": execution["id"]}),
    ]
    for method, path, params in writes:  # in both forms, the execution last: deleted by the last write
        for accept in ("application/xml", "application/json"):
            response = rundeck.call(method, path, params=params, headers={"Accept": accept})
            assert response.status_code == 200, (path, response.text)
            bodies.append(response.text)
    assert rundeck.call("GET", f"/execution/{execution['id']}").status_code == 404
    assert all(SECRET not in body for body in bodies + rundeck.seen)


def test_a_long_execution_is_aborted_and_executions_are_paged(rundeck: Rundeck) -> None:
    execution = rundeck.run("5b0c6e0a-0002-4000-8000-000000000002").json()
    wait_until(
        lambda: any("sleeping" in e["log"] for e in rundeck.output(execution["id"])["entries"]), "the job to start"
    )
    aborted = rundeck.call("POST", f"/execution/{execution['id']}/abort")
    assert aborted.status_code == 200, aborted.text
    assert aborted.json()["abort"]["status"] in ("pending", "aborted")
    assert rundeck.wait_done(execution["id"])["status"] == "aborted"
    again = rundeck.call("POST", f"/execution/{execution['id']}/abort").json()
    assert again["abort"]["status"] == "failed" and "already ended" in again["abort"]["reason"]
    pages = [rundeck.get("/project/web/executions", max=1, offset=n) for n in range(3)]
    total = pages[0]["paging"]["total"]
    ids = [e["id"] for page in pages for e in page["executions"]]
    assert total >= 2 and ids[0] == execution["id"] and len(set(ids)) == len(ids)
    assert rundeck.call("GET", "/execution/999999").json()["message"] == "Execution ID does not exist: 999999"
    of_job = rundeck.get("/job/5b0c6e0a-0002-4000-8000-000000000002/executions")
    assert [e["id"] for e in of_job["executions"]] == [execution["id"]] and of_job["paging"]["total"] == 1


def test_writes_need_a_token_in_the_header_or_the_authtoken_parameter(api: Api, rundeck: Rundeck) -> None:
    server = rundeck.base.rsplit("/api/", 1)[0]
    anonymous = Rundeck(server, None)
    refused = anonymous.call("DELETE", "/job/5b0c6e0a-0003-4000-8000-000000000003")
    assert refused.status_code == 401
    assert refused.json()["error"] is True and refused.json()["errorCode"] == "unauthorized"
    deleted = anonymous.call("DELETE", "/job/5b0c6e0a-0003-4000-8000-000000000003", params={"authtoken": api.token})
    assert deleted.status_code == 204, deleted.text
    gone = rundeck.call("GET", "/job/5b0c6e0a-0003-4000-8000-000000000003")
    assert gone.status_code == 404 and gone.json()["errorCode"] == "api.error.item.doesnotexist"
    assert rundeck.call("DELETE", "/job/5b0c6e0a-0003-4000-8000-000000000003").status_code == 404


def test_a_form_with_an_xml_batch_imports_as_rundecks_upload_does(rundeck: Rundeck) -> None:
    xml = rundeck.call("GET", "/project/web/jobs/export", params={"format": "xml", "jobExactFilter": "long"}).text
    response = rundeck.call(
        "POST", "/project/forms/jobs/import", params={"uuidOption": "remove"}, data={"xmlBatch": xml}
    )
    assert response.status_code == 200, response.text
    assert [(j["name"], j["project"]) for j in response.json()["succeeded"]] == [("long", "forms")]
    empty = rundeck.call("POST", "/project/forms/jobs/import", data={"other": "x"})
    assert empty.status_code == 400 and empty.json()["message"] == 'parameter "xmlBatch" is required'


def test_a_client_that_reads_xml_gets_rundecks_xml_forms(rundeck: Rundeck) -> None:
    xml = {"Accept": "application/xml"}

    def read(method: str, path: str, **kwargs: Any) -> etree._Element:
        response = rundeck.call(method, path, headers=xml, **kwargs)
        assert response.headers["content-type"].startswith("application/xml"), response.text
        return etree.fromstring(response.content)

    system = read("GET", "/system/info")
    assert (system.tag, system.findtext("rundeck/apiversion")) == ("system", "47")
    assert system.find("timestamp").get("unit") == "ms"
    projects = read("GET", "/projects")
    assert "web" in [p.findtext("name") for p in projects.findall("project")]
    assert int(projects.get("count")) == len(projects.findall("project"))
    assert read("GET", "/project/web").findtext("name") == "web"
    jobs = read("GET", "/project/web/jobs", params={"jobExactFilter": "deploy"})
    assert jobs.get("count") == "1" and jobs.find("job").get("id") == "5b0c6e0a-0001-4000-8000-000000000001"
    assert jobs.find("job").findtext("group") == "web/app"
    info = read("GET", "/job/5b0c6e0a-0001-4000-8000-000000000001/info")
    assert (info.tag, info.get("scheduled"), info.findtext("name")) == ("job", "false", "deploy")
    started = read("POST", "/job/5b0c6e0a-0001-4000-8000-000000000001/run", json={"options": {"env": "dev"}})
    assert started.tag == "execution" and started.findtext("job/name") == "deploy"
    execution_id = int(started.get("id"))
    assert rundeck.wait_done(execution_id)["status"] == "succeeded"
    shown = read("GET", f"/execution/{execution_id}")
    assert (shown.get("status"), shown.findtext("user")) == ("succeeded", "tests")
    assert shown.find("date-ended").get("unixtime").isdigit()
    output = read("GET", f"/execution/{execution_id}/output")
    assert output.findtext("completed") == "true" and "done" in [e.get("log") for e in output.iter("entry")]
    aborted = read("POST", f"/execution/{execution_id}/abort")
    assert (aborted.tag, aborted.get("status"), aborted.find("execution").get("id")) == (
        "abort",
        "failed",
        str(execution_id),
    )
    missing = rundeck.call("GET", "/execution/999999", headers=xml)
    assert missing.status_code == 404
    error = etree.fromstring(missing.content)
    assert (error.tag, error.get("error"), error.find("error").get("code")) == (
        "result",
        "true",
        "api.error.item.doesnotexist",
    )
    assert error.findtext("error/message") == "Execution ID does not exist: 999999"
    anonymous = requests.post(f"{rundeck.base}/execution/1/abort", headers=xml, timeout=TIMEOUT)
    assert (
        anonymous.status_code == 401 and etree.fromstring(anonymous.content).find("error").get("code") == "unauthorized"
    )
    no_route = rundeck.call("GET", "/no/such/path", headers=xml)
    assert no_route.status_code == 404 and etree.fromstring(no_route.content).get("error") == "true"


def test_text_xml_cannot_carry_is_escaped_in_xml_answers(rundeck: Rundeck) -> None:
    """A control character in output (a terminal colour) or in an id an error echoes is written ``\\xNN`` in XML,
    never a 500 (schemathesis found the error case: tests/test_http_schemathesis.py)."""
    xml = {"Accept": "application/xml"}
    missing = rundeck.call("GET", "/execution/7\x08\x1b", headers=xml)
    assert missing.status_code == 404, missing.text
    assert etree.fromstring(missing.content).findtext("error/message") == "Execution ID does not exist: 7\\x08\\x1b"
    coloured = "- name: coloured\n  uuid: 5b0c6e0a-0004-4000-8000-000000000004\n  description: ''\n"
    coloured += "  sequence:\n    commands:\n    - script: printf '\\033[1mbold\\033[0m\\n'\n"
    assert rundeck.import_jobs("web", coloured).status_code == 200
    execution_id = rundeck.run("5b0c6e0a-0004-4000-8000-000000000004").json()["id"]
    assert rundeck.wait_done(execution_id)["status"] == "succeeded"
    output = rundeck.call("GET", f"/execution/{execution_id}/output", params={"format": "xml"})
    assert output.status_code == 200, output.text
    assert "\\x1b[1mbold\\x1b[0m" in [e.get("log") for e in etree.fromstring(output.content).iter("entry")]


@pytest.mark.parametrize("text", ["\u00b2\u00b2", "9" * 5000])
def test_digits_int_refuses_are_no_id_nor_version(rundeck: Rundeck, text: str) -> None:
    """``"²"`` passes ``str.isdigit`` but not ``int()``, nor do 5,000 digits: a 404 or 400, never a 500
    (schemathesis found ``/execution/²²/output``: tests/test_http_schemathesis.py)."""
    for path in (f"/execution/{text}", f"/execution/{text}/output", f"/execution/{text}/state"):
        missing = rundeck.call("GET", path)
        assert missing.status_code == 404, (path, missing.text)
        assert missing.json()["message"] == f"Execution ID does not exist: {text}"
    deleted = rundeck.call("POST", "/executions/delete", json={"ids": [text]})
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["failures"] == [{"id": text, "message": f"Not found: {text}"}]
    ended = rundeck.call("GET", "/project/web/executions", params={"begin": text})
    assert ended.status_code == 400 and "begin must be Unix milliseconds" in ended.json()["message"], ended.text
    server = rundeck.base.rsplit("/api/", 1)[0]
    version = requests.get(f"{server}/api/{text}/system/info", headers={"Accept": "application/json"}, timeout=TIMEOUT)
    assert version.status_code == 400 and version.json()["errorCode"] == "api.error.api-version.unsupported"
    page = requests.get(f"{server}/project/web/execution/show/{text}", timeout=TIMEOUT)  # the dashboard's page
    assert page.status_code == 404, page.text[-2000:]
