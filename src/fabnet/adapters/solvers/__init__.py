"""Solvers behind the planning seams."""

from fabnet.adapters.solvers.ortools_flow import OrToolsFlow

__all__ = ["OrToolsFlow"]
