"""The dashboard against a real ``xlr serve`` process, read and driven as a browser without JavaScript does:
every page renders, the login opens a session (cookie flags, CSRF tokens), forms create tasks, operate on them
and run a Rundeck job with options, and bad input re-renders the form with the message by its field."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.http_helpers import CANARIES, Api, follow, served_api, start_serve, token_command, write_config
from tests.rundeck_helpers import ValuesHandler, serve_http
from tests.test_http_rundeck_api import Rundeck
from tests.waiting import wait_until
from tests.web_helpers import NODES, OPTIONS_JOB, OPTIONS_JOB_ID, SECURE_CANARY, Browser, field, page_paths
from xlr_runtime.http.web.session import COOKIE
from xlr_runtime.rundeck.nodes.resources import project_resources_dir

JOB_PAGE = f"/project/ops/job/show/{OPTIONS_JOB_ID}"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from served_api(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def server(api: Api) -> str:
    base = api.url.removesuffix("/api/v1")
    response = Rundeck(base, api.token).import_jobs("ops", OPTIONS_JOB)
    assert response.status_code == 200, response.text
    resources = project_resources_dir(api.home, "ops")
    resources.mkdir(parents=True)
    (resources / "nodes.yaml").write_text(NODES, encoding="utf-8")
    return base


@pytest.fixture
def browser(server: str, api: Api) -> Browser:
    browser = Browser(server)
    assert browser.login(api.token).status_code == 303
    return browser


def test_every_page_renders_without_javascript_for_an_open_reader(server: str, api: Api) -> None:
    task = api.create({"type": "jenkins.Build", "cis": {"jenkinsServer": "jenkins"}, "inputs": {"jobName": "x"}})
    anonymous = Browser(server)
    expected = {
        "/tasks": f'href="/tasks/{task["id"]}"',
        f"/tasks/{task['id']}": "Script runs",
        "/types": 'href="/types/jenkins.Build"',
        "/types/jenkins.Build": '<textarea id="f-jobParameters" name="jobParameters" rows="3">',
        "/jobs": f'href="{JOB_PAGE}"',
        JOB_PAGE: 'name="env"',
        "/schedules": "2099-01-01 03:00:00 UTC",
        "/nodes": "web1.example.internal",
    }
    for path, text in expected.items():
        response = anonymous.get(path)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"].startswith("text/html")
        assert text in response.text, (path, response.text)
        assert '<a href="/login' in response.text  # not logged in
    assert anonymous.get("/").url.endswith("/tasks")
    assert anonymous.get("/static/app.css").status_code == 200
    assert anonymous.get("/static/app.js").status_code == 200


def test_a_missing_page_or_object_is_an_html_error_page_never_a_500(server: str) -> None:
    anonymous = Browser(server)
    for path, status in [("/tasks/999999", 404), ("/tasks/abc", 404), ("/types/no.Such", 404),
                         ("/nowhere", 404), ("/project/ops/execution/show/x", 404),
                         (f"/project/other/job/show/{OPTIONS_JOB_ID}", 404), ("/tasks?status=sleeping", 400),
                         ("/tasks?cursor=-1", 400)]:  # fmt: skip
        response = anonymous.get(path)
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"].startswith("text/html") and "Error" in response.text, path
    assert "status must be one of" in anonymous.get("/tasks?status=sleeping").text


def test_the_login_opens_a_session_cookie_that_scripts_cannot_read(server: str, api: Api) -> None:
    browser = Browser(server)
    wrong = browser.login("xlr_not-a-token")
    assert wrong.status_code == 401 and "token: not a valid API token" in wrong.text
    response = browser.login(api.token)
    assert response.status_code == 303 and response.headers["location"] == "/tasks"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie, cookie
    assert "Secure" not in cookie  # served over plain http on loopback
    assert api.token not in cookie
    assert "tests" in browser.get("/tasks").text  # the token's name, by the log-out button
    assert browser.submit("/tasks", "/logout", {}).status_code == 303
    assert '<a href="/login' in browser.get("/tasks").text


def test_the_login_form_refuses_a_post_from_another_page_and_goes_on_only_to_a_local_page(
    server: str, api: Api
) -> None:
    browser = Browser(server)
    response = browser.post("/login", {"nonce": "forged", "token": api.token})
    assert response.status_code == 403 and COOKIE not in response.headers.get("set-cookie", "")
    form = browser.get("/login?next=https://elsewhere.example/").text
    assert 'name="next" value="/tasks"' in form
    for elsewhere in ("//elsewhere.example/", "/%09/elsewhere.example/", "/%5Celsewhere.example"):
        form = browser.get(f"/login?next={elsewhere}").text
        assert 'name="next" value="/tasks"' in form, elsewhere
    sent_on = browser.post("/login", {"nonce": field(form, "nonce"), "next": "/\t/elsewhere", "token": api.token})
    assert sent_on.status_code == 303 and sent_on.headers["location"] == "/tasks"


def test_forms_need_a_session_and_its_csrf_token(server: str, browser: Browser) -> None:
    anonymous = Browser(server)
    refused = anonymous.post("/types/jenkins.Build", {"jobName": "x", "csrf": "x"})
    assert refused.status_code == 401 and "log in" in refused.text
    forged = browser.post("/types/jenkins.Build", {"jobName": "x", "jenkinsServer": "jenkins", "csrf": "forged"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    missing = browser.post("/types/jenkins.Build", {"jobName": "x", "jenkinsServer": "jenkins"})
    assert missing.status_code == 403


def test_a_task_created_from_its_types_form_is_followed_and_operated_on_its_page(api: Api, browser: Browser) -> None:
    api.jenkins.add_job("web-form", duration=30)
    created = browser.submit("/types/jenkins.Build", "/types/jenkins.Build",
                             {"jenkinsServer": "jenkins", "jobName": "web-form", "title": "From the form"})  # fmt: skip
    assert created.status_code == 303, created.text
    task_page = created.headers["location"]
    task_id = int(task_page.rsplit("/", 1)[1])
    shown = browser.get(task_page).text
    assert "From the form" in shown and f'action="/tasks/{task_id}/abort"' in shown
    wait_until(lambda: "jenkins/Build.py" in browser.get(task_page).text, "the first script run", timeout=60)
    aborted = browser.submit(task_page, f"{task_page}/abort", {})
    assert aborted.status_code == 303 and aborted.headers["location"] == task_page
    page = browser.get(task_page).text
    assert re.search(r'data-field="status">aborted<', page), page
    assert f'action="/tasks/{task_id}/retry"' in page and "/abort" not in page
    again = browser.submit(task_page, f"{task_page}/abort", {})
    assert again.status_code == 409 and "aborted" in again.text


def test_bad_task_input_re_renders_the_form_with_the_message_by_its_field(browser: Browser) -> None:
    response = browser.submit("/types/jenkins.Build", "/types/jenkins.Build",
                              {"jenkinsServer": "nowhere", "jobName": "keep-me"})  # fmt: skip
    assert response.status_code == 400, response.text
    assert 'id="error-jenkinsServer"' in response.text and "nowhere" in response.text
    assert 'value="keep-me"' in response.text  # what was typed stays
    missing = browser.submit("/types/jenkins.Build", "/types/jenkins.Build", {"jenkinsServer": "jenkins"})
    assert missing.status_code == 400 and 'id="error-jobName"' in missing.text, missing.text


def test_the_run_form_is_built_from_the_jobs_options(browser: Browser) -> None:
    page = browser.get(JOB_PAGE).text
    assert re.search(r'<select id="o-env" name="env">\s*<option value=""></option>\s*<option>dev</option>', page)
    assert 'name="version" value="1.0"' in page and "Must match <code>[0-9]+[.][0-9]+</code>" in page
    assert re.search(r'<input id="o-password" name="password" type="password" autocomplete="off">', page)
    boxes = re.findall(r'<input type="checkbox" name="regions" value="(\w+)"', page)
    assert boxes == ["eu", "us", "ap"]
    assert SECURE_CANARY not in page


def test_options_with_a_values_url_offer_what_it_serves_and_say_why_when_it_cannot_be_read(
    server: str, api: Api, browser: Browser
) -> None:
    with serve_http(ValuesHandler) as values:
        secret = values.replace("http://", "http://deploy:pw-never-shown@")
        job = f"""\
- name: remote
  description: Options whose values a URL serves
  uuid: 7e1d0c2a-0003-4000-8000-00000000a003
  options:
  - {{name: env, enforced: true, required: true, valuesUrl: '{values}/objects'}}
  - {{name: region, values: [north], valuesUrl: '{values}/list'}}
  - {{name: flavour, enforced: true, valuesUrl: '{secret}/missing'}}
  sequence:
    commands:
    - exec: echo ${{option.env}}
"""
        assert Rundeck(server, api.token).import_jobs("remote", job).status_code == 200
        path = "/project/remote/job/show/7e1d0c2a-0003-4000-8000-00000000a003"
        page = browser.get(path).text
        assert re.search(r'<select id="o-env" name="env">\s*<option value=""></option>\s*<option>dev</option>\s*'
                         r"<option>prod</option>\s*</select>", page), page  # fmt: skip
        assert re.findall(r'<datalist id="l-region">(.*?)</datalist>', page) == [
            '<option value="north"><option value="dev"><option value="prod">'
        ]
        assert '<input id="o-flavour" name="flavour" value=""' in page
        assert "The allowed values could not be loaded: valuesUrl http://deploy:***@" in page
        assert "pw-never-shown" not in page
        refused = browser.submit(path, path, {"env": "staging", "flavour": "x"})
    assert refused.status_code == 400 and "not one of the allowed values: dev, prod" in refused.text


def test_a_job_runs_from_the_form_and_its_output_is_shown_by_node(browser: Browser) -> None:
    form = {"env": "prod", "version": "2.5", "password": SECURE_CANARY, "regions": ["eu", "ap"]}
    response = browser.submit(JOB_PAGE, JOB_PAGE, form)
    assert response.status_code == 303, response.text
    execution_page = response.headers["location"]
    assert re.fullmatch(r"/project/ops/execution/show/\d+", execution_page)
    wait_until(lambda: "succeeded" in browser.get(execution_page).text, "the execution to succeed", timeout=60)
    page = browser.get(execution_page).text
    assert "releasing 2.5 to prod in eu+ap" in page and "the password is *****" in page
    assert re.search(r'<section class="node" data-node="[^"]+">', page)
    assert "by tests" in page  # the session's user
    assert SECURE_CANARY not in page


@pytest.mark.parametrize(
    ("form", "option", "message"),
    [
        ({"version": "1.0"}, "env", "option 'env' is required"),
        ({"env": "staging"}, "env", "option 'env': value 'staging' is not one of the allowed values: dev, prod"),
        ({"env": "dev", "version": "latest"}, "version", "does not match the regular expression"),
        ({"env": "dev", "regions": ["eu", "mars"]}, "regions", "value 'mars' is not one of the allowed values"),
    ],
)
def test_a_bad_option_value_re_renders_the_run_form_with_the_message_by_the_option(
    browser: Browser, form: dict[str, object], option: str, message: str
) -> None:
    response = browser.submit(JOB_PAGE, JOB_PAGE, {**form, "password": SECURE_CANARY})
    assert response.status_code == 400, response.text
    shown = re.search(rf'<p class="error" role="alert" id="error-{option}">([^<]*)</p>', response.text)
    assert shown and message in shown.group(1).replace("&#39;", "'"), response.text
    assert SECURE_CANARY not in response.text


def test_a_log_out_ends_the_session_on_the_server_not_only_in_the_browser(server: str, api: Api) -> None:
    browser = Browser(server)
    assert browser.login(api.token).status_code == 303
    stolen = Browser(server)  # a copy of the cookie taken before the log-out (another machine, a leaked backup)
    stolen.session.cookies.set(COOKIE, browser.session.cookies[COOKIE])
    csrf = stolen.csrf()
    assert "tests" in stolen.get("/tasks").text  # the copy is a session, as long as the original is
    assert browser.submit("/tasks", "/logout", {}).status_code == 303
    assert '<a href="/login' in stolen.get("/tasks").text
    refused = stolen.post("/types/jenkins.Build", {"jobName": "x", "csrf": csrf})
    assert refused.status_code == 401, refused.text
    again = Browser(server)  # the same token opens new sessions
    assert again.login(api.token).status_code == 303 and "tests" in again.get("/tasks").text


def test_a_revoked_token_ends_its_sessions(server: str, api: Api) -> None:
    token = token_command(api.home, "create", "short-lived").strip()
    browser = Browser(server)
    assert browser.login(token).status_code == 303
    assert "short-lived" in browser.get("/tasks").text
    token_command(api.home, "revoke", "short-lived")
    assert "short-lived" not in browser.get("/tasks").text
    refused = browser.post("/types/jenkins.Build", {"jobName": "x", "csrf": "x"})
    assert refused.status_code == 401


def test_with_reads_closed_pages_need_a_session_and_the_api_takes_its_cookie_for_reads_only(
    tmp_path: Path, api: Api
) -> None:
    home = tmp_path / "home"
    write_config(home, api.jenkins.url, '"http.open_reads" = "off"')
    token = token_command(home, "create", "closed").strip()
    with start_serve(home, tmp_path / "serve.log") as serve:
        browser = Browser(serve.api_url().removesuffix("/api/v1"))
        shut = browser.get("/types/jenkins.Build", allow_redirects=False)
        assert shut.status_code == 303 and shut.headers["location"] == "/login?next=%2Ftypes%2Fjenkins.Build"
        assert browser.get("/api/v1/tasks").status_code == 401
        assert browser.get("/static/app.css").status_code == 200
        form = browser.get("/login?next=%2Ftypes%2Fjenkins.Build").text
        logged_in = browser.post("/login", {"nonce": field(form, "nonce"), "next": "/types/jenkins.Build",
                                            "token": token})  # fmt: skip
        assert logged_in.headers["location"] == "/types/jenkins.Build"
        assert browser.get("/types/jenkins.Build").status_code == 200
        assert browser.get("/api/v1/tasks").status_code == 200  # the live updates' reads
        write = browser.session.post(browser.server + "/api/v1/tasks", json={"type": "jenkins.Build"}, timeout=60)
        assert write.status_code == 401  # a cookie never authorises an API write
        assert serve.stop() == 0, serve.output()


def test_no_page_ever_holds_a_secret(api: Api, browser: Browser) -> None:
    call = api.create(
        {"type": "demo.Call", "cis": {"server": "demo"}, "inputs": {"name": "n", "token": CANARIES["input"]}}
    )
    follow(api, call["id"])
    run = browser.submit(JOB_PAGE, JOB_PAGE, {"env": "dev", "password": SECURE_CANARY})
    execution_id = run.headers["location"].rsplit("/", 1)[1]
    wait_until(lambda: "succeeded" in browser.get(run.headers["location"]).text, "the execution", timeout=60)
    tasks = [str(t["id"]) for t in api.get("/tasks?limit=500").json()["tasks"]]
    types = [t["name"] for t in api.get("/types").json()["types"]]
    values = {"task_id": tasks, "type_name": types, "project": ["ops"], "id": [OPTIONS_JOB_ID, execution_id]}
    for path in page_paths(values):
        response = browser.get(path)
        assert response.status_code in (200, 404), (path, response.text)  # a job id as an execution's: 404
    refused = browser.submit(JOB_PAGE, JOB_PAGE, {"env": "staging", "password": SECURE_CANARY})
    assert refused.status_code == 400
    failed = browser.submit("/types/demo.Call", "/types/demo.Call", {"server": "nowhere", "token": CANARIES["input"]})
    assert failed.status_code == 400
    for body in browser.pages:
        for canary in [*CANARIES.values(), SECURE_CANARY]:
            assert canary not in body


def _form_routes() -> list[str]:
    from starlette.routing import Route

    from xlr_runtime.http.web import routes

    found = [r.path for r in routes() if isinstance(r, Route) and "POST" in (r.methods or ())]
    return sorted(set(found) - {"/logout"})  # logging out would end the session the other posts need


#: Field names the forms read, and one they do not.
FORM_FIELDS = ["env", "version", "password", "regions", "jobName", "jenkinsServer", "title", "token", "name", "zzz"]
form_texts = st.one_of(st.sampled_from(["", "dev", "prod", "1.0", "jenkins", "true", "eu", "x" * 300]),
                       st.text(max_size=20))  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    route=st.sampled_from(_form_routes()),
    task_id=st.sampled_from(["1", "999999", "x", "-1", "99999999999999999999999"]),
    type_name=st.sampled_from(["jenkins.Build", "demo.Call", "demo.Abstract", "xlrelease.Task", "no.Such"]),
    job=st.sampled_from([OPTIONS_JOB_ID, "nope"]),
    fields=st.dictionaries(st.sampled_from(FORM_FIELDS), st.lists(form_texts, max_size=3), max_size=5),
    raw=st.one_of(st.none(), st.binary(max_size=40)),
)
def test_any_form_post_is_answered_below_500_with_a_page(
    browser: Browser,
    route: str,
    task_id: str,
    type_name: str,
    job: str,
    fields: dict[str, list[str]],
    raw: bytes | None,
) -> None:
    path = route.replace("{task_id}", task_id).replace("{type_name}", type_name).replace("{project}", "ops")
    path = path.replace("{id}", job if "/job/" in route else task_id)
    if raw is None:
        response = browser.post(path, {**fields, "csrf": browser.csrf()})
    else:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        response = browser.post(path, raw + b"&csrf=" + browser.csrf().encode(), headers=headers)
    assert response.status_code < 500, (path, fields, raw, response.text)
    if response.status_code == 303:  # it was done: on to a page of this server
        assert response.headers["location"].startswith("/"), response.headers
    else:
        assert response.headers["content-type"].startswith("text/html"), (path, response.text)
