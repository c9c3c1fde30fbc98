"""WSGI entry point for gunicorn: ``dashboard.wsgi:server``."""

from __future__ import annotations

from dashboard.app import create_app

app = create_app()
server = app.server
