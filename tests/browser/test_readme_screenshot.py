"""The README's screenshot: the demo attendance lead's home, this week's huddle, at 1280x800.

Skipped unless asked for, so the suite never rewrites a committed file by accident:
    ATTENDNC_SCREENSHOT=docs/screenshot.png .venv/bin/pytest tests/browser/test_readme_screenshot.py
"""

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from districts.models import Role
from students.demo_accounts import DEMO_ACCOUNTS

TARGET = os.environ.get("ATTENDNC_SCREENSHOT", "")


@pytest.mark.skipif(not TARGET, reason="set ATTENDNC_SCREENSHOT=<path.png> to (re)take the README screenshot")
def test_readme_screenshot_of_the_attendance_leads_huddle(page, demo_district, sign_in):
    call_command("compute_metrics", district=demo_district.slug, stdout=io.StringIO())
    call_command("generate_huddles", district=demo_district.slug, stdout=io.StringIO())
    email = next(email for email, role, _, _ in DEMO_ACCOUNTS if role == Role.ATTENDANCE_LEAD)
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, email)  # the lead lands on this week's huddle
    expect(page.locator("[data-row-focus]").first).to_be_visible()
    Path(TARGET).parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=TARGET)
