"""Serving: security headers on every response, no asset from another origin, the health routes, basic
auth, and the rule that a dashboard reachable beyond loopback needs authentication."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner
from werkzeug.security import generate_password_hash

from dashboard.app import create_app
from dashboard.config import load_dashboard_settings
from dashboard.security import UsersFileError, read_users
from workflows.cli import app as cli
from workflows.settings import SettingsError, load_settings


@pytest.fixture
def client(built_home):  # type: ignore[no-untyped-def]
    return create_app(built_home, load_dashboard_settings()).server.test_client()


def test_every_response_carries_the_security_headers(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/market", "/_dash-layout", "/_dash-dependencies", "/assets/smelt.css", "/healthz",
                 "/readyz", "/nowhere"):  # fmt: skip
        response = client.get(path)
        policy = response.headers["Content-Security-Policy"]
        assert "unsafe-eval" not in policy
        assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
        script_src = re.search(r"script-src ([^;]+)", policy).group(1).split()
        assert all(s == "'self'" or s.startswith("'sha256-") for s in script_src), script_src
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_the_page_loads_nothing_from_another_origin(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/market").get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert "/assets/smelt.css" in html and "/assets/smelt.js" in html
    # A host name anywhere in the page (not a substring: the page carries random tokens) means another origin.
    assert not re.findall(r"(?:https?:)?//[a-z0-9-]+(?:\.[a-z0-9-]+)+", html, flags=re.IGNORECASE)
    for url in urls:  # each is served by the app itself
        assert client.get(url).status_code == 200, url


def test_the_inline_bootstrap_script_matches_a_hash_in_the_policy(client) -> None:  # type: ignore[no-untyped-def]
    import base64
    import hashlib

    response = client.get("/market")
    html = response.get_data(as_text=True)
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>", html, re.S)
    executable = [s for s in inline if s.strip() and "alert(" not in s]  # the IE-only block is commented out
    assert executable
    policy = response.headers["Content-Security-Policy"]
    for script in executable:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy


def test_health_and_readiness(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["ready"] is True and ready.json["positioning_rows"] > 0
    empty = create_app(
        load_settings(home=tmp_path / "nothing"), load_dashboard_settings()
    ).server.test_client()
    assert empty.get("/healthz").status_code == 200  # alive without any warehouse
    not_ready = empty.get("/readyz")
    assert not_ready.status_code == 503 and "smelt run" in not_ready.json["reason"]
    page = empty.post("/_dash-update-component", json=_route_request("/market"))
    assert page.status_code == 200 and "no marts snapshot" in page.get_data(as_text=True)


def _route_request(path: str) -> dict[str, object]:
    return {
        "output": "page.children",
        "outputs": {"id": "page", "property": "children"},
        "inputs": [{"id": "url", "property": "pathname", "value": path},
                   {"id": "url", "property": "search", "value": ""}],
        "state": [{"id": "url-written", "property": "data", "value": None}],
        "changedPropIds": ["url.pathname"],
    }  # fmt: skip


def test_basic_auth_guards_everything_but_the_probes(built_home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    users = tmp_path / "users"
    users.write_text(f"# analysts\nana:{generate_password_hash('correct horse battery')}\n")
    settings = load_dashboard_settings(auth="basic", users_file=users)
    client = create_app(built_home, settings).server.test_client()
    assert client.get("/market").status_code == 401
    assert 'Basic realm="smelt dashboard"' in client.get("/market").headers["WWW-Authenticate"]
    assert client.get("/market", auth=("ana", "wrong password")).status_code == 401
    assert client.get("/market", auth=("bob", "correct horse battery")).status_code == 401
    assert client.get("/market", auth=("ana", "correct horse battery")).status_code == 200
    assert client.get("/_dash-layout", auth=("ana", "correct horse battery")).status_code == 200
    assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200
    denied = client.get("/assets/smelt.css")
    assert denied.status_code == 401 and "Content-Security-Policy" in denied.headers


def test_users_file_errors_name_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "users"
    bad.write_text("ana-without-a-hash\n")
    with pytest.raises(UsersFileError, match="users line 1: expected user:hash"):
        read_users(bad)
    bad.write_text("# nobody\n")
    with pytest.raises(UsersFileError, match="has no users"):
        read_users(bad)
    with pytest.raises(UsersFileError, match="cannot read"):
        read_users(tmp_path / "missing")


def test_exposure_rules() -> None:
    load_dashboard_settings(host="127.0.0.1").check_exposure()
    load_dashboard_settings(host="::1").check_exposure()
    load_dashboard_settings(host="0.0.0.0", allow_anonymous=True).check_exposure()
    with pytest.raises(SettingsError, match="without authentication"):
        load_dashboard_settings(host="0.0.0.0").check_exposure()
    with pytest.raises(SettingsError, match="needs SMELT_DASHBOARD_USERS_FILE"):
        load_dashboard_settings(host="0.0.0.0", auth="basic").check_exposure()
    with pytest.raises(SettingsError, match="binds the app to loopback"):
        load_dashboard_settings(host="0.0.0.0", auth="proxy").check_exposure()
    with pytest.raises(SettingsError, match="SMELT_DASHBOARD_PORT"):
        load_dashboard_settings(port=0)


def test_cli_refuses_a_public_bind_without_auth_and_hashes_passwords() -> None:
    runner = CliRunner()
    refused = runner.invoke(cli, ["dashboard", "--host", "0.0.0.0", "--port", "8999"])
    assert refused.exit_code == 2 and "without authentication" in refused.output
    made = runner.invoke(cli, ["dashboard", "hash-password", "ana"], input="a long enough password\n")
    assert made.exit_code == 0
    line = made.output.strip().splitlines()[-1]
    assert read_users_line(line) == "ana"
    short = runner.invoke(cli, ["dashboard", "hash-password", "ana"], input="short\n")
    assert short.exit_code == 2


def read_users_line(line: str) -> str:
    from werkzeug.security import check_password_hash

    user, _, hashed = line.partition(":")
    assert check_password_hash(hashed, "a long enough password")
    return user
