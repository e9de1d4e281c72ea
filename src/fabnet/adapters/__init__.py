"""Adapters: the stores, files and outside systems behind the ports."""
