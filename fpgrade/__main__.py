"""``python -m fpgrade``: the same command line as the ``fpgrade`` script."""

from fpgrade.cli import run

run()
