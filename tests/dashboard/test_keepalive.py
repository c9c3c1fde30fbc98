"""The served dashboard keeps an idle connection open longer than the clients and proxies that pool them
(decision 105): a server that closed first raced their next request, and the load test lost POSTs that way."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.dashboard_support import serve

#: Longer than gunicorn's old 5 s and httpx's 5 s pool expiry; far shorter than the server's keep-alive
#: (dashboard.serving.KEEPALIVE_SECONDS).
IDLE = 6.5


def get(sock: socket.socket, host: str) -> bytes:
    sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n\r\n".encode())
    answer = b""
    while b"\r\n\r\n" not in answer or not answer.endswith(b"ok\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break  # the server closed the connection
        answer += chunk
    return answer


def test_an_idle_keep_alive_connection_still_answers(tmp_path: Path) -> None:
    """`smelt dashboard` as served in production (no marts needed: /healthz answers without them)."""
    with serve(tmp_path / "home", ready="/healthz") as base:
        url = urlsplit(base)
        with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
            assert get(sock, url.netloc).startswith(b"HTTP/1.1 200")
            time.sleep(IDLE)
            again = get(sock, url.netloc)
    assert again.startswith(b"HTTP/1.1 200"), f"the server closed the idle connection: {again!r}"
