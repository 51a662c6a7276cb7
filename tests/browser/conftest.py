"""Real-browser tests: Debian's Chromium, driven by Playwright, against pytest-django's live server.

One browser serves the whole package; every test gets a fresh context (cookies, storage), a page
that fails the test when the browser logs a console error or an uncaught exception, and axe-core
for WCAG 2.1 AA checks. Pages are reached the way people reach them: signing in through the form.
"""

import io
import json
import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.core.management import call_command
from django.urls import reverse

from districts.models import District
from students.demo_accounts import DEMO_DISTRICT_SLUG, DEMO_PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
DEMO_STUDENTS = 150
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")
def browser():
    """One Chromium for every browser test. Package-scoped rather than session-scoped so that
    Playwright's event loop, and the async-safety exemption it needs, end with this package."""
    if not CHROMIUM.exists():
        pytest.skip(f"Browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running in the main thread while it is alive;
    # Django would refuse the tests' own ORM calls (fixtures, assertions) as "async" without this.
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ.setdefault(ASYNC_UNSAFE, "true")
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)


class ConsoleWatcher:
    """Collects console errors and uncaught page exceptions; a test may allow the ones it expects."""

    def __init__(self):
        self.errors: list[str] = []
        self.allowed: list[re.Pattern] = []

    def attach(self, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} ({message.location.get('url', '')})")

    def unexpected(self) -> list[str]:
        return [error for error in self.errors if not any(pattern.search(error) for pattern in self.allowed)]


@pytest.fixture
def console():
    return ConsoleWatcher()


@pytest.fixture
def page(browser, live_server, console):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    browser_page = context.new_page()
    console.attach(browser_page)
    yield browser_page
    context.close()
    if unexpected := console.unexpected():
        pytest.fail("The browser reported errors:\n  " + "\n  ".join(unexpected), pytrace=False)


@pytest.fixture(scope="package")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.fixture
def assert_accessible(axe):
    def check(page) -> None:
        violations = axe.run(page, options=AXE_OPTIONS).response["violations"]
        if violations:
            pytest.fail(_describe_violations(page.url, violations), pytrace=False)

    return check


def _describe_violations(url: str, violations: list[dict]) -> str:
    lines = [f"{len(violations)} WCAG 2.1 AA violation(s) on {url}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"]:
            lines.append(f"    at {json.dumps(node['target'])}: {node['html'][:200]}")
    return "\n".join(lines)


@pytest.fixture
def sign_in():
    """Sign in through the real form; the page ends where the site sends that person."""
    login_path = reverse("login")

    def submit(page, email: str, password: str = DEMO_PASSWORD) -> None:
        page.goto(login_path)
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        if urlparse(page.url).path == login_path:
            pytest.fail(f"Signing in as {email} failed: {page.get_by_role('alert').all_inner_texts()}", pytrace=False)

    return submit


@pytest.fixture
def demo_district(transactional_db) -> District:
    """The demo district exactly as `manage.py seed_demo` builds it for newcomers."""
    call_command("seed_demo", students=DEMO_STUDENTS, stdout=io.StringIO())
    return District.objects.get(slug=DEMO_DISTRICT_SLUG)
