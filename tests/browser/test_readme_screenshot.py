"""The README's screenshot: the demo attendance lead's students page at 1280x800.

Skipped unless asked for, so the suite never rewrites a committed file by accident:
    ATTENDNC_SCREENSHOT=docs/screenshot.png .venv/bin/pytest tests/browser/test_readme_screenshot.py
"""

import os
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from districts.models import Role
from students.demo_accounts import DEMO_ACCOUNTS

TARGET = os.environ.get("ATTENDNC_SCREENSHOT", "")


@pytest.mark.skipif(not TARGET, reason="set ATTENDNC_SCREENSHOT=<path.png> to (re)take the README screenshot")
def test_readme_screenshot_of_the_attendance_leads_students_page(page, demo_district, sign_in):
    email = next(email for email, role, _, _ in DEMO_ACCOUNTS if role == Role.ATTENDANCE_LEAD)
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, email)
    page.goto(reverse("students:roster", kwargs={"district": demo_district.slug}))  # the lead lands on the huddle
    expect(page.locator("#roster-results tbody tr").first).to_be_visible()
    Path(TARGET).parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=TARGET)
