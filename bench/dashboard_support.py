"""Helpers shared by the dashboard's browser tests, its benchmark and ``make screenshots``: serve the
dashboard in a child process on a free port, and drive Debian's Chromium (never a downloaded browser)
headless through Playwright."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("SMELT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-default-apps", "--disable-extensions",
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, timeout: float = 60.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``url`` (/readyz) until it answers 200; fail early if the server process died."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the dashboard exited with {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except Exception as exc:
            last = exc
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout:.0f}s: {last}")


@contextlib.contextmanager
def serve(home: Path, port: int | None = None, env: dict[str, str] | None = None,
          log: Path | None = None, ready: str = "/readyz") -> Iterator[str]:  # fmt: skip
    """``smelt dashboard`` over ``home`` in a child process; yields the base URL once ``ready`` answers 200
    (``/healthz`` for a home without marts), and stops the server on exit."""
    port = port or free_port()
    child_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SMELT_", "POLYGON_", "SNOWFLAKE_"))
    }
    child_env.update({"SMELT_HOME": str(home), "SMELT_LOG_FORMAT": "json", **(env or {})})
    out = log.open("wb") if log else subprocess.DEVNULL
    smelt = str(Path(sys.executable).with_name("smelt"))
    proc = subprocess.Popen(
        [smelt, "dashboard", "--host", "127.0.0.1", "--port", str(port)],
        env=child_env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base + ready, proc=proc)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if log:
            out.close()  # type: ignore[union-attr]


def require_chromium() -> str:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        raise RuntimeError(
            f"Chromium not found at {CHROMIUM}: install Debian's (apt-get install -y chromium chromium-driver), "
            "which .ci/run does; browsers are never downloaded"
        )
    return CHROMIUM


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium browser (Playwright); each launch gets a fresh temporary profile."""
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class ConsoleLog:
    """Collects a page's console errors, page errors and failed requests (a test asserts it stays empty)."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on(
            "console",
            lambda m: self.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("requestfailed", self._failed)

    def _failed(self, request: Any) -> None:
        # A request cut short because the test navigated away (ERR_ABORTED) is not the app's failure.
        if "ERR_ABORTED" not in str(request.failure):
            self.errors.append(f"requestfailed: {request.url} {request.failure}")


def wait_for_charts(page: Any, timeout: float = 30_000) -> None:
    """Until the page's Dash callbacks are done: no pending requests and every chart drawn or explained."""
    page.wait_for_selector("#page .page-title", timeout=timeout)
    page.wait_for_function(
        """() => {
            const cards = [...document.querySelectorAll('#page .card')];
            if (!cards.length) return false;
            if (document.querySelector('._dash-loading, [data-dash-is-loading="true"]')) return false;
            return cards.every(c => c.querySelector('.main-svg, .ag-row, .notice, table, .kpi'));
        }""",
        timeout=timeout,
    )
