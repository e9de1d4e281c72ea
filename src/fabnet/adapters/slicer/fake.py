"""A fake slicer for unit tests and the simulator: the fast estimate, scaled by fault
knobs, and a G-code file that a (virtual) printer can run."""

from __future__ import annotations

from fabnet.adapters.geometry.analysis import TrimeshAnalyzer
from fabnet.domain.errors import CapabilityMismatch, SlicerFailed
from fabnet.fabrication.estimate import estimate
from fabnet.fabrication.profiles import FdmProfile
from fabnet.services.ports import SliceResult


class FakeSlicer:
    def __init__(self, *, time_factor: float = 1.0, fail: str | None = None) -> None:
        self.time_factor = time_factor
        self.fail = fail  # when set, every slice fails with this reason
        self.calls = 0
        self._mesh = TrimeshAnalyzer(wall_samples=1000)

    def slice(self, filename: str, data: bytes, profile: FdmProfile) -> SliceResult:
        self.calls += 1
        if self.fail:
            raise SlicerFailed("fake-slicer", self.fail)
        facts = self._mesh.analyse(filename, data)
        x, y, z = facts.bbox_mm
        if x > profile.bed_x_mm or y > profile.bed_y_mm or z > profile.max_height_mm:
            raise CapabilityMismatch("part", "does not fit the machine: outside the print volume")
        est = estimate(facts, profile)
        layers = "\n".join(
            f"G1 Z{profile.first_layer_height_mm + i * profile.layer_height_mm:.2f}\n"
            "G1 X10 Y10 E1 F1800"
            for i in range(min(est.layers, 20))
        )
        gcode = f"; fake slice of {filename}\nG28\n{layers}\nM104 S0\n"
        return SliceResult(
            print_time_s=est.print_time_s * self.time_factor,
            filament_mm=est.filament_mm,
            filament_g=est.filament_g,
            gcode=gcode.encode(),
            slicer="FakeSlicer",
        )
