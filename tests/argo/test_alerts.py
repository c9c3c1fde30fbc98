"""Run alerts against a real local HTTP server: the payload, retries on 5xx, the timeout, a refused post, and
the webhook URL (the credential) never in a log line or an exception."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from workflows import alerts, logs
from workflows.run_reports import FailedNode, run_report
from workflows.settings import AlertSettings, load_settings

TOKEN = "T0SECRET/B0SECRET/xoxWebhookTokenNeverLogged"
STARTED = dt.datetime(2026, 11, 27, 23, 30, tzinfo=dt.UTC)


@dataclass
class Receiver:
    """What the webhook answers, in order (the last repeats), and what it received."""

    answers: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0
    posts: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.posts.append(json.loads(body))
            state.paths.append(self.path)
            time.sleep(state.delay)
            status = state.answers[min(len(state.posts), len(state.answers)) - 1]
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"no")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/services/{TOKEN}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _settings(url: str, **overrides: Any) -> AlertSettings:
    return load_settings(alert_webhook_url=url, **overrides).alert


def _report(status: str = "Failed") -> dict[str, Any]:
    failed = (
        [FailedNode("run-day(0).load", "load", "Error (exit code 3)", 3)] if status != "Succeeded" else []
    )
    return run_report(
        run_id="smelt-daily-x7k2p", kind="daily", status=status, source="polygon", started_at=STARTED,
        finished_at=STARTED + dt.timedelta(minutes=12, seconds=3),
        days=[dt.date(2026, 11, 27)], rows_by_dataset={"stock_bars": 1200, "option_snapshots": 800},
        failed=failed,
    )  # fmt: skip


@pytest.fixture
def log_text() -> Iterator[io.StringIO]:
    """Every log line at debug level, the libraries' included; the URL is not given to the redactor, so a
    line that carried it would show it."""
    out = io.StringIO()
    logs.configure("json", "debug", stream=out)
    yield out
    logs.configure()


def test_a_failed_run_posts_its_summary_with_the_failed_nodes(
    receiver: Receiver, log_text: io.StringIO
) -> None:
    assert alerts.notify(_settings(receiver.url), _report(), backoff=0.01) is True
    (post,) = receiver.posts
    assert receiver.paths == [f"/services/{TOKEN}"]
    assert set(post) == {"text"}
    head, node = post["text"].splitlines()
    assert head == (
        ":x: smelt daily run `smelt-daily-x7k2p` failed: 2026-11-27, 2,000 rows landed in 12m 03s"
    )
    assert node == "• run-day(0).load (load, exit 3): Error (exit code 3)"
    assert TOKEN not in log_text.getvalue() and "alert posted" in log_text.getvalue()


def test_a_succeeded_run_posts_only_when_asked(receiver: Receiver) -> None:
    assert alerts.notify(_settings(receiver.url), _report("Succeeded"), backoff=0.01) is False
    assert receiver.posts == []
    assert alerts.notify(_settings(receiver.url, alert_on_success=True), _report("Succeeded"), backoff=0.01)
    assert receiver.posts[0]["text"].startswith(":white_check_mark: smelt daily run")
    assert alerts.notify(load_settings().alert, _report()) is False  # no webhook: nothing to do


def test_5xx_is_retried_until_the_receiver_takes_it(receiver: Receiver, log_text: io.StringIO) -> None:
    receiver.answers = [503, 500, 200]
    assert alerts.notify(_settings(receiver.url), _report(), backoff=0.01) is True
    assert len(receiver.posts) == 3 and receiver.posts[0] == receiver.posts[2]
    assert TOKEN not in log_text.getvalue()


def test_a_receiver_that_stays_down_fails_quietly_without_the_url(
    receiver: Receiver, log_text: io.StringIO
) -> None:
    receiver.answers = [502]
    assert alerts.notify(_settings(receiver.url), _report(), backoff=0.01) is False
    assert len(receiver.posts) == alerts.ATTEMPTS
    lines = [json.loads(line) for line in log_text.getvalue().splitlines()]
    (warning,) = [line for line in lines if line["event"].startswith("alert not delivered")]
    assert warning["status"] == 502 and warning["attempts"] == alerts.ATTEMPTS
    assert TOKEN not in log_text.getvalue() and "127.0.0.1" not in log_text.getvalue()


def test_a_slow_receiver_times_out_each_attempt_and_the_run_goes_on(
    receiver: Receiver, log_text: io.StringIO
) -> None:
    receiver.delay = 1.0
    started = time.monotonic()
    assert alerts.notify(_settings(receiver.url, alert_timeout_seconds=0.2), _report(), backoff=0.01) is False
    assert (
        time.monotonic() - started < 0.2 * alerts.ATTEMPTS + 1.5
    )  # bounded by the timeout, not the receiver
    assert len(receiver.posts) == alerts.ATTEMPTS
    assert '"error":"ReadTimeout"' in log_text.getvalue() and TOKEN not in log_text.getvalue()


def test_a_refused_post_is_not_retried(receiver: Receiver, log_text: io.StringIO) -> None:
    receiver.answers = [404]
    assert alerts.notify(_settings(receiver.url), _report(), backoff=0.01) is False
    assert len(receiver.posts) == 1
    assert "SMELT_ALERT_WEBHOOK_URL" in log_text.getvalue() and TOKEN not in log_text.getvalue()


def test_an_unreachable_or_malformed_url_never_raises(log_text: io.StringIO) -> None:
    for url in ("http://127.0.0.1:9/services/" + TOKEN, "not a url " + TOKEN):
        assert alerts.notify(_settings(url), _report(), backoff=0.01) is False
    assert TOKEN not in log_text.getvalue()
