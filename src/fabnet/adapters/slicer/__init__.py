"""Slicers behind the Slicer port: PrusaSlicer's CLI, and a fake for unit tests."""

from fabnet.adapters.slicer.fake import FakeSlicer
from fabnet.adapters.slicer.prusa import PrusaSlicer

__all__ = ["FakeSlicer", "PrusaSlicer"]
