"""The ``fabnet`` command line (Typer)."""
