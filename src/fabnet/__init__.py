"""fabnet: open coordination for massively distributed manufacturing.

The curated public API: the composition root and the settings. Everything else is
reached through its layer (``fabnet.domain``, ``fabnet.planning``, ``fabnet.services``).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
