"""Run alerts: a run's summary posted to a Slack-compatible incoming webhook by the exit handler.

The webhook URL is the credential (anyone holding it can post), so it is a secret setting that reaches the
one step posting it from an ExternalSecret, and it is never logged, put in an exception or a parameter: a
failed post is logged with the attempt count, the HTTP status or the error's type, nothing else. A failure to
notify never fails the run (the report in the lake is the record; the alert is a courtesy), so
:func:`notify` returns whether it was delivered instead of raising.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from tenacity import RetryError, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from workflows import logs
from workflows.run_reports import SUCCEEDED, duration_text
from workflows.settings import AlertSettings

log = logs.get_logger("smelt.alerts")

#: Attempts per alert; 5xx, 429 and network errors (timeouts included) are retried, other answers are not.
ATTEMPTS = 3


class _Retryable(Exception):
    """A 5xx or 429 answer: the receiver may take the same post a moment later."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, _Retryable | httpx.TransportError)


def should_notify(settings: AlertSettings, report: Mapping[str, Any]) -> bool:
    """A failed run always (when a webhook is set), a succeeded one only with ``SMELT_ALERT_ON_SUCCESS``."""
    if settings.webhook_url is None:
        return False
    return report.get("status") != SUCCEEDED or settings.on_success


def message(report: Mapping[str, Any]) -> dict[str, Any]:
    """The webhook's JSON: Slack's ``text`` (mrkdwn), which Mattermost, Rocket.Chat and Teams' Slack-compatible
    hooks also read. One line of outcome, then the failed nodes with their exit codes."""
    ok = report.get("status") == SUCCEEDED
    days = report.get("first_day") or "no trading day"
    if report.get("last_day") and report.get("last_day") != report.get("first_day"):
        days = f"{days} to {report['last_day']}"
    head = (
        f"{':white_check_mark:' if ok else ':x:'} smelt {report.get('kind', 'run')} run "
        f"`{report.get('run_id')}` {str(report.get('status', '?')).lower()}: {days}, "
        f"{int(report.get('rows') or 0):,} rows landed in {duration_text(float(report.get('seconds') or 0))}"
    )
    lines = [head]
    for node in report.get("failed_nodes") or []:
        code = f"exit {node['exit_code']}" if node.get("exit_code") is not None else "no exit code"
        lines.append(
            f"• {node.get('node')} ({node.get('template')}, {code}): {str(node.get('message'))[:200]}"
        )
    return {"text": "\n".join(lines)}


def notify(
    settings: AlertSettings,
    report: Mapping[str, Any],
    *,
    transport: httpx.BaseTransport | None = None,
    backoff: float = 1.0,
) -> bool:
    """Post the run's summary if the settings ask for it; True when the receiver took it. Never raises."""
    if not should_notify(settings, report) or settings.webhook_url is None:
        return False
    url = settings.webhook_url.get_secret_value()
    payload = message(report)
    attempts = 0
    try:
        with httpx.Client(timeout=settings.timeout_seconds, transport=transport) as client:
            for attempt in Retrying(
                stop=stop_after_attempt(ATTEMPTS),
                wait=wait_exponential(multiplier=backoff, max=10 * backoff),
                retry=retry_if_exception(_retryable),
                reraise=True,
            ):
                with attempt:
                    attempts += 1
                    answer = client.post(url, json=payload)
                    if answer.status_code >= 500 or answer.status_code == 429:
                        raise _Retryable(answer.status_code)
                    if answer.status_code >= 400:
                        log.warning("alert refused by the webhook; check SMELT_ALERT_WEBHOOK_URL",
                                    status=answer.status_code, attempts=attempts, run=report.get("run_id"))  # fmt: skip
                        return False
    except (_Retryable, httpx.HTTPError, httpx.InvalidURL, RetryError) as exc:
        # the type and status only: httpx's messages carry the URL, which is the secret
        status = exc.status if isinstance(exc, _Retryable) else None
        log.warning("alert not delivered; the run's report is in the lake", error=type(exc).__name__,
                    status=status, attempts=attempts, run=report.get("run_id"))  # fmt: skip
        return False
    log.info("alert posted", attempts=attempts, run=report.get("run_id"), status=report.get("status"))
    return True
