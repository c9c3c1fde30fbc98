"""How gunicorn serves the dashboard: one set of options for the image (``dashboard/gunicorn_conf.py``) and
``smelt dashboard``, so both serve alike. Nothing is written outside /tmp and /dev/shm (the image's root
filesystem is read-only).
"""

from __future__ import annotations

import os
from typing import Any

from dashboard.config import DashboardSettings


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
        "keepalive": 5,
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
