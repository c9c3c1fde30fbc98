"""gunicorn's config module for the image: ``gunicorn --config python:dashboard.gunicorn_conf
dashboard.wsgi:server``. The settings come from ``SMELT_DASHBOARD_*`` through ``dashboard.serving.options``."""

from __future__ import annotations

from dashboard.config import load_dashboard_settings
from dashboard.serving import options

# gunicorn reads one module-level name per setting.
globals().update(
    {name: value for name, value in options(load_dashboard_settings()).items() if value is not None}
)
