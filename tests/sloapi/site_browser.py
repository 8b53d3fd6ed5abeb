"""A headless Chromium (Debian's, driven by Playwright) that records what a page does on the network.

Every request is intercepted: one to anything but the service under test is aborted and recorded.
Failed requests, answers >= 400, console errors and uncaught page errors are recorded too, and a
full-page screenshot of each visit is kept in the test's tmp dir (an artefact to look at on failure).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, Route, sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Visit:
    """What one page load did."""

    page: Page
    screenshot: Path
    requests: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Everything that should not have happened, one line each."""
        return (
            [f"left 127.0.0.1: {u}" for u in self.outside]
            + [f"failed: {f}" for f in self.failed]
            + [f"console: {c}" for c in self.console]
        )


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium with a fresh profile (Playwright gives each launch its own)."""
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def visit(browser: Browser, url: str, shots: Path, name: str, wait_for: str | None = None) -> Visit:
    """Load ``url`` and wait for the network to settle (and for ``wait_for``, a CSS selector)."""
    origin = urlsplit(url)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    page = context.new_page()
    shots.mkdir(parents=True, exist_ok=True)
    seen = Visit(page=page, screenshot=shots / f"{name}.png")

    def gate(route: Route) -> None:
        target = urlsplit(route.request.url)
        seen.requests.append(route.request.url)
        if (target.scheme, target.hostname, target.port) != (origin.scheme, "127.0.0.1", origin.port):
            seen.outside.append(route.request.url)
            route.abort()
            return
        route.continue_()

    context.route("**/*", gate)
    page.on("requestfailed", lambda r: seen.failed.append(f"{r.url} {r.failure}"))
    page.on("response", lambda r: seen.failed.append(f"{r.url} {r.status}") if r.status >= 400 else None)
    page.on("console", lambda m: seen.console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.console.append(str(e)))
    page.goto(url, wait_until="networkidle", timeout=120_000)
    if wait_for:
        page.wait_for_selector(wait_for, timeout=60_000)
    page.screenshot(path=str(seen.screenshot), full_page=True)
    return seen
