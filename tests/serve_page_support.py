"""Headless Chromium for the page tests (not a test module itself).

Import it only after `pytest.importorskip("playwright.sync_api")`. The browser is Debian's
chromium, never one Playwright downloads; every request it would send off the loopback
interface is aborted (and recorded), so the tests never reach the network.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

#: For a closed network: no background traffic, no first-run work, no GPU, no sandbox (root).
LAUNCH_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync"]
OFF_LOOPBACK = re.compile(r"^(?!https?://127\.0\.0\.1[:/])")
WAIT_MS = 20_000  # a hang guard for what the page does live, never a speed requirement


@contextmanager
def launched_chromium() -> Iterator[Any]:
    """Chromium, launched by Playwright with a fresh temporary profile (--user-data-dir)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=LAUNCH_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Tab:
    """A page in a context of its own, with what it tried to fetch elsewhere and its JS errors."""

    page: Any
    aborted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def close(self) -> None:
        self.page.context.close()


def open_tab(browser: Any, javascript: bool = True) -> Tab:
    context = browser.new_context(java_script_enabled=javascript,
                                  viewport={"width": 1280, "height": 900})
    tab = Tab(context.new_page())

    def refuse(route: Any) -> None:
        tab.aborted.append(route.request.url)
        route.abort()

    context.route(OFF_LOOPBACK, refuse)
    tab.page.on("pageerror", lambda error: tab.errors.append(str(error)))
    return tab


def node_status(page: Any, node: str) -> Any:
    return page.locator(f'#nodes tbody tr[data-node="{node}"] .status')


def node_cell(page: Any, node: str, column: int) -> Any:
    """Columns: 0 node, 1 status, 2 attempts, 3 duration, 4 items, 5 error."""
    return page.locator(f'#nodes tbody tr[data-node="{node}"] td').nth(column)
