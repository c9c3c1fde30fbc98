"""Security headers on every response, and HTTP basic authentication when configured.

The Content-Security-Policy allows scripts only from the app itself plus the hashes of Dash's inline
bootstrap script, and never ``unsafe-eval``: that rules out WebGL traces (their shader compiler evaluates
code), which the figures do not use. Styles need ``unsafe-inline`` because React and plotly set style
attributes. Nothing is fetched from another origin.

Basic auth reads ``user:hash`` lines (werkzeug password hashes) from a file, normally a mounted Kubernetes
Secret; the probes (``/healthz``, ``/readyz``) stay open so the kubelet needs no credentials. A checked
password is remembered for a few minutes as a salted digest, so Dash's many small requests do not each pay
for a deliberately slow hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from flask import Flask, Response, request
from werkzeug.security import check_password_hash

OPEN_PATHS = frozenset({"/healthz", "/readyz"})
REMEMBER_SECONDS = 300.0


def content_security_policy(script_hashes: Iterable[str]) -> str:
    scripts = " ".join(["'self'", *script_hashes])
    return "; ".join([
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])  # fmt: skip


def install_headers(server: Flask, script_hashes: Iterable[str]) -> None:
    policy = content_security_policy(script_hashes)
    headers = {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }

    @server.after_request
    def _headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response


class UsersFileError(ValueError):
    """The users file is missing or malformed; the message names the file and line."""


def read_users(path: Path) -> dict[str, str]:
    """``user:hash`` per line; blank lines and ``#`` comments skipped."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsersFileError(f"cannot read the dashboard users file {path}: {exc.strerror}") from None
    users: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, hashed = line.partition(":")
        if not sep or not user or "$" not in hashed:
            raise UsersFileError(
                f"{path} line {number}: expected user:hash (make one: smelt dashboard hash-password)"
            )
        users[user] = hashed
    if not users:
        raise UsersFileError(f"{path} has no users: add a line user:hash (smelt dashboard hash-password)")
    return users


class BasicAuth:
    """Checks the Authorization header against the users file (re-read when the file changes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._users = read_users(path)
        self._mtime = path.stat().st_mtime
        self._salt = secrets.token_bytes(16)
        self._remembered: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def _current_users(self) -> dict[str, str]:
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            return self._users
        if mtime != self._mtime:  # a rotated Secret: new users, and forget what was remembered
            with self._lock:
                self._users, self._mtime, self._remembered = read_users(self.path), mtime, {}
        return self._users

    def check(self, user: str, password: str) -> bool:
        users = self._current_users()
        digest = hmac.new(self._salt, f"{user}\0{password}".encode(), hashlib.sha256).digest()
        now = time.monotonic()
        with self._lock:
            until = self._remembered.get(digest)
            if until is not None and until > now:
                return True
        hashed = users.get(user)
        if hashed is None or not check_password_hash(hashed, password):
            return False
        with self._lock:
            self._remembered[digest] = now + REMEMBER_SECONDS
        return True

    def install(self, server: Flask) -> None:
        @server.before_request
        def _authenticate() -> Response | None:
            if request.path in OPEN_PATHS:
                return None
            auth = request.authorization
            if (
                auth is not None
                and auth.type == "basic"
                and self.check(auth.username or "", auth.password or "")
            ):
                return None
            return Response(
                "authentication required\n",
                401,
                {"WWW-Authenticate": 'Basic realm="smelt dashboard", charset="UTF-8"'},
            )
