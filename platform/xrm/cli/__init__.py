"""The ``xrm`` command line."""

from xrm.cli.app import app, main

__all__ = ["app", "main"]
