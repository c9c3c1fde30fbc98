"""``python -m workflows`` is ``smelt``."""

from workflows.cli import main

main()
