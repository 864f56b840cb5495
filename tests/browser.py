"""A real headless browser for end-to-end tests: Debian's Chromium driven by Playwright.

Playwright's own browser downloads are never used; the tests drive the system Chromium
(``apt-get install chromium``). Without it the browser tests skip, except in CI (``CI`` set),
where they fail so a missing browser cannot silently turn them off.

Use the fixtures ``chromium`` (one browser per module) and ``browser_page`` (a page in a
fresh context per test) by importing them into a test module::

    from tests.browser import browser_page_fixture, chromium_fixture  # noqa: F401
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = Path(os.environ.get("OSMO_TEST_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_TIMEOUT_MS = 10_000


def chromium_path() -> str:
    """The Chromium executable to drive; skips the test without one (fails it in CI)."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return str(CHROMIUM)
    reason = f"headless browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run them")
    pytest.skip(reason)


@contextlib.asynccontextmanager
async def launch_chromium(executable: str | None = None) -> AsyncIterator[Browser]:
    """Launch headless Chromium (``executable`` or :func:`chromium_path`) and close it after."""
    path = executable or chromium_path()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=path, headless=True, args=LAUNCH_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture(name="chromium", scope="module")
async def chromium_fixture() -> AsyncIterator[Browser]:
    """One headless Chromium per test module."""
    async with launch_chromium() as browser:
        yield browser


@pytest.fixture(name="browser_page")
async def browser_page_fixture(chromium: Browser) -> AsyncIterator[Page]:
    """A page in a fresh browser context (no cookies or storage shared between tests)."""
    context = await chromium.new_context(viewport={"width": 800, "height": 700})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield await context.new_page()
    finally:
        await context.close()
