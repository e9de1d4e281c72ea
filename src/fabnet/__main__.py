"""``python -m fabnet`` runs the CLI."""

from fabnet.entrypoints.cli.main import run

run()
