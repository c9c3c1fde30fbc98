"""``python -m workflows`` is ``smelt``."""

from workflows.cli import app

app(prog_name="smelt")
