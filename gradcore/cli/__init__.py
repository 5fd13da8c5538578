"""The ``gradcore`` command line: ``gradcore info``, ``gradcore demo``."""

from gradcore.cli.main import main

__all__ = ["main"]
