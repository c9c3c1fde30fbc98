"""``python -m workflows`` is ``smelt``."""

from workflows.cli import main

if __name__ == "__main__":  # a spawned process (smelt run's loader) imports this module without running smelt
    main()
