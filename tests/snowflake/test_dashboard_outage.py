"""The dashboard when Snowflake stops answering: pages say so in one line (no traceback), /readyz returns 503
naming the reason while /healthz stays 200, and both recover once Snowflake answers again, without a restart.

The emulator is stopped for real (its process ended), so the connector meets a refused connection, as it
would an unreachable account; the marts here are one small table, as the page's first query needs no more."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from dashboard.app import create_app
from dashboard.config import load_dashboard_settings
from dashboard.pages import market
from tests.dashboard.test_serving import _route_request
from tests.snowflake.conftest import FakeSnowflake, fakesnow_server
from workflows.lake import FolderStorage
from workflows.marts_contract import BUILD_FILE, CURRENT, LAKE_BUILDS_PREFIX
from workflows.settings import Settings, load_settings

pytestmark = [
    pytest.mark.snowflake,
    pytest.mark.timeout(300),
    # The connector aborts a timed-out request from a timer thread of its own, which meets the stopped
    # emulator too and dies with the same connection error: expected here, and not the dashboard's thread.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
]

VERSION = "20261127T220000000000Z-abcdef"
#: Short, so that an outage shows within the test's time (production: 30 s).
TIMEOUT = 3.0
UNANSWERED = "Snowflake (account smelt-test) is not answering"


def seed(server: FakeSnowflake, private_key: Path) -> None:
    """The one mart the readiness check and the market page's first query read."""
    import snowflake.connector

    conn = snowflake.connector.connect(**server.connect_args(private_key))
    try:
        cur = conn.cursor()
        cur.execute("create database if not exists SMELT")
        cur.execute("create schema if not exists SMELT.MARTS")
        cur.execute(
            "create or replace table SMELT.MARTS.MART_OPTIONS_POSITIONING (underlying varchar, trade_date date)"
        )
        cur.execute("insert into SMELT.MARTS.MART_OPTIONS_POSITIONING values ('SPY', '2026-11-27')")
    finally:
        conn.close()


def reporter(
    server: FakeSnowflake, private_key: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """The reporter's settings, with a build summary published to a folder lake."""
    lake = FolderStorage(home / "lake")
    lake.put_exclusive(f"{LAKE_BUILDS_PREFIX}/{VERSION}/{BUILD_FILE}",
                       json.dumps({"version": VERSION, "warehouse": "snowflake", "marts": {}}).encode())  # fmt: skip
    (home / "CURRENT").write_text(VERSION + "\n")
    lake.put_file(home / "CURRENT", f"{LAKE_BUILDS_PREFIX}/{CURRENT}")
    for name, value in {**server.env(private_key), "SNOWFLAKE_USER": "SMELT_REPORTER_SVC",
                        "SNOWFLAKE_ROLE": "SMELT_REPORTER", "SNOWFLAKE_WAREHOUSE": "SMELT_DASHBOARD_WH"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    return load_settings(home=home, warehouse="snowflake", lake_url=(home / "lake").as_uri(), log_format="json",
                         sim_now=dt.date(2026, 11, 27))  # fmt: skip


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def test_an_outage_shows_on_the_page_and_fails_readiness_until_snowflake_answers(
    tmp_path: Path, key_pair: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "fakesnow.log"
    dashboard = load_dashboard_settings(snowflake_timeout_seconds=TIMEOUT, snapshot_check_seconds=0)
    with fakesnow_server(log) as server:
        seed(server, key_pair[0])
        app = create_app(reporter(server, key_pair[0], tmp_path, monkeypatch), dashboard)
        client = app.server.test_client()
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.json
        assert ready.json.items() >= {"ready": True, "version": VERSION, "positioning_rows": 1}.items()
        assert ready.json["on_time"] is True  # the SLA is reported beside readiness (decision 103)
    # the emulator's process has ended: every request is refused now
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json["check"] == "marts_answer" and not_ready.json["reason"].startswith(UNANSWERED)
    assert client.get("/healthz").status_code == 200

    page = client.post("/_dash-update-component", json=_route_request("/market"))
    assert page.status_code == 200 and UNANSWERED in text(page) and "Traceback" not in text(page)
    assert "notice-error" in text(page)
    q = app.server.config["SMELT_QUERIES"]
    chart = market.market_chart(q, "SPY", "2026-11-27", "3m", "adjusted", ["sma20"], "light")
    assert chart[1].className == "notice notice-error" and UNANSWERED in chart[1].children
    key = key_pair[0].read_text().splitlines()[1]
    assert key not in text(page) and key not in json.dumps(not_ready.json)

    with fakesnow_server(log, port=server.port) as again:  # Snowflake answers again, on the same address
        seed(again, key_pair[0])
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.json
        page = client.post("/_dash-update-component", json=_route_request("/market"))
        assert UNANSWERED not in text(page)
