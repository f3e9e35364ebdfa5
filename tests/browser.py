"""A real headless Chromium for the web pages' tests: Debian's `chromium` (no browser is ever
downloaded), driven by Playwright over its DevTools protocol. `.ci/run` installs the package
when it is missing; the tests fail, not skip, without it, so a green run has looked at the pages.

Screenshots go to `build/screenshots/`, for a reviewer to look at."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

SHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"
WAIT_MS = 20_000  # generous: a condition, never a pause; speed is the benchmarks' business

# As root (CI) Chromium needs --no-sandbox; the rest keep it off this machine's closed network.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def chromium_path() -> str:
    found = os.environ.get("SIAGA112_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail(
            "the board's tests need Debian's chromium package (apt-get install chromium); "
            ".ci/run installs it, or set SIAGA112_CHROMIUM to a Chromium binary"
        )
    return found


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path(), args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def screenshot(page: Page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=False)
    return path
