"""Mesh readers behind the MeshAnalyzer port."""

from fabnet.adapters.geometry.stl import StlAnalyzer

__all__ = ["StlAnalyzer"]
