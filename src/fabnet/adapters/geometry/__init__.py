"""Mesh readers and analysis behind the MeshAnalyzer port."""

from fabnet.adapters.geometry.analysis import TrimeshAnalyzer

__all__ = ["TrimeshAnalyzer"]
