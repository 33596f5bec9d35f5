"""The dashboard end to end in a real headless Chromium against a real ``xlr serve``: log in, start the Jenkins
sample task from its type's form, watch its status line change live on the task list (no reload), open its log,
run a Rundeck job with options from the run form and watch its output arrive; a screenshot of each page at
desktop and phone width is written as a test artifact."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser_helpers import CHROMIUM_ARGS, DESKTOP, PHONE, artifacts_folder, require_browser
from tests.http_helpers import Api, served_api
from tests.test_http_rundeck_api import Rundeck
from tests.web_helpers import OPTIONS_JOB, OPTIONS_JOB_ID, SECURE_CANARY

#: Milliseconds Playwright waits for a condition on a page (a generous deadline, never a sleep).
DEADLINE = 60_000


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from served_api(tmp_path_factory.mktemp("web-e2e"))


def test_a_newcomer_watches_the_jenkins_sample_and_runs_a_job_in_a_browser(api: Api, tmp_path: Path) -> None:
    executable = require_browser()
    from playwright.sync_api import expect, sync_playwright

    server = api.url.removesuffix("/api/v1")
    assert Rundeck(server, api.token).import_jobs("ops", OPTIONS_JOB).status_code == 200
    api.jenkins.add_job("e2e/hello", queue_delay=1, duration=2)
    expect.set_options(timeout=DEADLINE)
    shots = artifacts_folder(tmp_path)
    print(f"dashboard screenshots in {shots}")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_context(viewport=DESKTOP).new_page()
            page.set_default_timeout(DEADLINE)

            page.goto(f"{server}/login")
            page.screenshot(path=shots / "login.png", full_page=True)
            page.fill("#token", api.token)
            page.click("button[type=submit]")
            expect(page).to_have_url(f"{server}/tasks")

            page.goto(f"{server}/types/jenkins.Build")
            page.fill("#f-title", "Jenkins sample from the browser")
            page.select_option("#f-jenkinsServer", "jenkins")
            page.fill("#f-jobName", "e2e/job/hello")
            page.screenshot(path=shots / "type-form.png", full_page=True)
            page.click("form.card button[type=submit]")
            expect(page).to_have_url(f"{server}/tasks/1")
            task_url = page.url

            page.goto(f"{server}/tasks")
            row = page.locator('tr[data-task="1"]')
            page.evaluate(  # record every status line the row shows, and mark the document to detect a reload
                """() => { window.notReloaded = true; window.seen = [];
                   const cell = document.querySelector('tr[data-task="1"] [data-field="status_line"]');
                   new MutationObserver(() => window.seen.push(cell.textContent)).observe(
                       cell, {childList: true, characterData: true, subtree: true}); }"""
            )
            expect(row.locator('[data-field="status_line"]')).to_have_text("Build #1: SUCCESS")
            expect(row.locator('[data-field="status"]')).to_have_text("completed")
            assert page.evaluate("window.notReloaded") is True  # changed live, in place
            seen = page.evaluate("window.seen")
            assert "Build #1: SUCCESS" in seen, seen
            page.screenshot(path=shots / "tasks.png", full_page=True)

            page.click('tr[data-task="1"] a >> nth=0')
            expect(page).to_have_url(task_url)
            expect(page.locator("#log")).to_contain_text("Finished: SUCCESS")
            expect(page.locator(".statusbar [data-field=status]")).to_have_text("completed")
            page.screenshot(path=shots / "task.png", full_page=True)

            job_url = f"{server}/project/ops/job/show/{OPTIONS_JOB_ID}"
            page.goto(job_url)
            page.select_option("#o-env", "prod")
            page.fill("#o-version", "2.7")
            page.fill("#o-password", SECURE_CANARY)
            page.check("input[name=regions][value=eu]")
            page.check("input[name=regions][value=us]")
            page.screenshot(path=shots / "job.png", full_page=True)
            page.click("form.card button[type=submit]")
            expect(page).to_have_url(f"{server}/project/ops/execution/show/1")
            expect(page.locator("#output")).to_contain_text("releasing 2.7 to prod in eu+us")
            expect(page.locator("#output")).to_contain_text("the password is *****")
            expect(page.locator(".statusbar [data-field=status]")).to_have_text("succeeded")
            assert SECURE_CANARY not in page.content()
            page.screenshot(path=shots / "execution.png", full_page=True)

            pages = {"tasks": "/tasks", "task": "/tasks/1", "types": "/types", "jobs": "/jobs", "job": job_url,
                     "execution": "/project/ops/execution/show/1", "schedules": "/schedules",
                     "nodes": "/nodes"}  # fmt: skip
            phone = browser.new_context(viewport=PHONE, storage_state=page.context.storage_state()).new_page()
            for name, path in pages.items():
                phone.goto(path if path.startswith("http") else server + path)
                width = phone.evaluate("document.documentElement.scrollWidth")
                assert width <= PHONE["width"], (name, width)  # tables scroll inside their box, the page does not
                phone.screenshot(path=shots / f"{name}-phone.png", full_page=True)
        finally:
            browser.close()
