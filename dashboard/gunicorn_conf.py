"""gunicorn settings for the dashboard, from ``SMELT_DASHBOARD_*``: the image runs
``gunicorn --config python:dashboard.gunicorn_conf dashboard.wsgi:server`` and ``smelt dashboard`` loads the
same module, so both serve alike. Nothing is written outside /tmp (the image's root filesystem is read-only).
"""

from __future__ import annotations

import os

from dashboard.config import load_dashboard_settings

_settings = load_dashboard_settings()
_settings.check_exposure()

_host = f"[{_settings.host}]" if ":" in _settings.host else _settings.host
bind = [f"{_host}:{_settings.port}"]
workers = _settings.workers
threads = _settings.threads
worker_class = "gthread"
timeout = 60
graceful_timeout = 20
keepalive = 5
# Shared URLs carry the view's state (strategy legs included): allow long request lines.
limit_request_line = 8190
# The heartbeat file goes to memory, and no control socket is created in $HOME.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 (gunicorn's recommendation)
control_socket_disable = True
accesslog = os.environ.get("SMELT_DASHBOARD_ACCESS_LOG") or None
errorlog = "-"
loglevel = "warning"
proc_name = "smelt-dashboard"
