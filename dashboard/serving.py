"""How gunicorn serves the dashboard: one set of options for the image (``dashboard/gunicorn_conf.py``) and
``smelt dashboard``, so both serve alike. Nothing is written outside /tmp and /dev/shm (the image's root
filesystem is read-only).
"""

from __future__ import annotations

import os
from typing import Any

from dashboard.config import DashboardSettings

#: How long an idle client connection is kept open: longer than any client or proxy in front keeps its own.
KEEPALIVE_SECONDS = 120


def options(settings: DashboardSettings) -> dict[str, Any]:
    """gunicorn settings for ``settings``; refuses an unauthenticated bind beyond loopback."""
    settings.check_exposure()
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return {
        "bind": [f"{host}:{settings.port}"],
        "workers": settings.workers,
        "threads": settings.threads,
        "worker_class": "gthread",
        "timeout": 60,
        "graceful_timeout": 20,
        # Idle keep-alive connections outlive those of whatever pools them in front (ingress-nginx keeps its
        # upstream ones 60 s, Go's transport in oauth2-proxy 90 s, httpx 5 s): a server closing first races the
        # client's next request on that connection, and a POST lost that way is not retried (decision 105).
        "keepalive": KEEPALIVE_SECONDS,
        # Shared URLs carry the view's state (strategy legs included): allow long request lines.
        "limit_request_line": 8190,
        # The heartbeat file goes to memory, and no control socket is created in $HOME.
        "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,  # noqa: S108 (gunicorn's advice)
        "control_socket_disable": True,
        "accesslog": os.environ.get("SMELT_DASHBOARD_ACCESS_LOG") or None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "smelt-dashboard",
    }
