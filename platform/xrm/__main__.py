"""``python -m xrm`` runs the command line."""

from xrm.cli import main

main()
