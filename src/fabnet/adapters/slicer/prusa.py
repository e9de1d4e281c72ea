"""PrusaSlicer's command line behind the ``Slicer`` port.

Each call writes the mesh and a profile ini generated from an ``FdmProfile`` into a
private temporary folder, runs ``prusa-slicer --export-gcode`` headless with a time
limit, checks the exit code, and reads the time and filament from the comments
PrusaSlicer writes at the end of the G-code.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from fabnet.domain.errors import CapabilityMismatch, SlicerFailed
from fabnet.fabrication.profiles import FdmProfile
from fabnet.services.ports import SliceResult

_TIME = re.compile(rb"; estimated printing time \(normal mode\) = ([^\n]+)")
_GRAMS = re.compile(rb"; (?:total )?filament used \[g\] = ([\d.]+)")
_MM = re.compile(rb"; filament used \[mm\] = ([\d.]+)")
_CM3 = re.compile(rb"; filament used \[cm3\] = ([\d.]+)")
_DURATION = re.compile(r"(\d+)([dhms])")
_UNIT_S = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
_RECORD = np.dtype([("normal", "<f4", 3), ("v", "<f4", (3, 3)), ("attr", "<u2")])
_NOT_FITTING = ("could not fit on the bed", "outside of the print volume", "exceeds the maximum")


def profile_ini(p: FdmProfile) -> str:
    """A PrusaSlicer config (print + filament + printer) for this profile."""
    values: dict[str, object] = {
        "layer_height": p.layer_height_mm,
        "first_layer_height": p.first_layer_height_mm,
        "nozzle_diameter": p.nozzle_mm,
        "filament_diameter": p.filament_diameter_mm,
        "filament_density": p.filament_density_g_cm3,
        "perimeters": p.perimeters,
        "top_solid_layers": p.top_solid_layers,
        "bottom_solid_layers": p.bottom_solid_layers,
        "fill_density": f"{p.infill_density * 100:g}%",
        "fill_pattern": p.fill_pattern,
        "solid_infill_below_area": p.solid_infill_below_area_mm2,
        "perimeter_speed": p.perimeter_speed_mm_s,
        "external_perimeter_speed": p.external_perimeter_speed_mm_s,
        "small_perimeter_speed": p.small_perimeter_speed_mm_s,
        "infill_speed": p.infill_speed_mm_s,
        "solid_infill_speed": p.solid_infill_speed_mm_s,
        "top_solid_infill_speed": p.top_solid_infill_speed_mm_s,
        "first_layer_speed": p.first_layer_speed_mm_s,
        "travel_speed": p.travel_speed_mm_s,
        "machine_max_acceleration_extruding": f"{p.acceleration_mm_s2:g},{p.acceleration_mm_s2:g}",
        "skirts": p.skirts,
        "skirt_distance": p.skirt_distance_mm,
        "bed_shape": f"0x0,{p.bed_x_mm:g}x0,{p.bed_x_mm:g}x{p.bed_y_mm:g},0x{p.bed_y_mm:g}",
        "max_print_height": p.max_height_mm,
        "temperature": p.temperature_c,
        "first_layer_temperature": p.temperature_c,
        "bed_temperature": p.bed_temperature_c,
        "first_layer_bed_temperature": p.bed_temperature_c,
        "gcode_flavor": "marlin2",
        "machine_limits_usage": "time_estimate_only",
        "start_gcode": "G28 ; home all axes\\nG1 Z5 F5000 ; lift nozzle",
        "end_gcode": "M104 S0\\nM140 S0\\nG28 X0\\nM84",
    }
    lines = [f"# fabnet profile {p.name!r}: generated, do not edit"]
    lines += [f"{key} = {value}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def binary_stl_for_prusaslicer(data: bytes) -> bytes:
    """PrusaSlicer (admesh) calls an STL ASCII when the 128 bytes after the header hold no
    byte over 127, so a binary STL of small coordinates and zero normals fails to load.
    Write each facet's true normal and put first one that points down somewhere: the
    sign byte of its negative component tells admesh the file is binary."""
    if len(data) < 84 + 50:
        return data
    (count,) = struct.unpack_from("<I", data, 80)
    if len(data) != 84 + 50 * count or any(b > 127 for b in data[80:208]):
        return data
    records = np.frombuffer(data, dtype=_RECORD, count=count, offset=84).copy()
    v = records["v"].astype(np.float64)
    normal = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
    length = np.linalg.norm(normal, axis=1)
    records["normal"] = np.where(
        length[:, None] > 0, normal / np.maximum(length, 1e-300)[:, None], 0
    )
    negative = np.flatnonzero((records["normal"] < 0).any(axis=1))
    if len(negative):
        first = int(negative[0])
        records[[0, first]] = records[[first, 0]]
    return data[:84] + records.tobytes()


def parse_duration(text: str) -> float:
    parts = _DURATION.findall(text)
    if not parts:
        raise SlicerFailed("prusa-slicer", f"unreadable print time {text!r}")
    return float(sum(int(n) * _UNIT_S[u] for n, u in parts))


class PrusaSlicer:
    """``prusa-slicer`` (Debian package) run headless."""

    def __init__(self, *, executable: str = "prusa-slicer", timeout_s: float = 600.0) -> None:
        self.executable = executable
        self.timeout_s = timeout_s

    @property
    def path(self) -> str:
        found = shutil.which(self.executable)
        if found is None:
            raise SlicerFailed(
                "prusa-slicer", f"{self.executable!r} is not installed (apt install prusa-slicer)"
            )
        return found

    def version(self) -> str:
        out = self._run([self.path, "--help"], Path(tempfile.gettempdir()), check=False)
        match = re.search(r"PrusaSlicer-([\w.+-]+)", out.stdout)
        return f"PrusaSlicer {match.group(1)}" if match else "PrusaSlicer"

    def slice(self, filename: str, data: bytes, profile: FdmProfile) -> SliceResult:
        suffix = Path(filename).suffix.lower() or ".stl"
        with tempfile.TemporaryDirectory(prefix="fabnet-slice-") as tmp:
            work = Path(tmp)
            model = work / f"model{suffix}"
            model.write_bytes(binary_stl_for_prusaslicer(data) if suffix == ".stl" else data)
            ini = work / "profile.ini"
            ini.write_text(profile_ini(profile), encoding="utf-8")
            out = work / "out.gcode"
            args = [self.path, "--export-gcode", "--load", str(ini), "--output", str(out)]
            result = self._run([*args, str(model)], work, check=True)
            if not out.exists():
                raise SlicerFailed("prusa-slicer", _reason(result) or "no G-code was written")
            gcode = out.read_bytes()
        return self._result(gcode)

    def _run(self, args: list[str], cwd: Path, *, check: bool) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "HOME": str(cwd), "LC_ALL": "C"}
        try:
            result = subprocess.run(
                args,
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=self.timeout_s,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise SlicerFailed("prusa-slicer", f"no result within {self.timeout_s:g} s") from None
        if check and result.returncode != 0:
            reason = _reason(result)
            if any(marker in reason.lower() for marker in _NOT_FITTING):
                raise CapabilityMismatch("part", f"does not fit the machine: {reason}")
            raise SlicerFailed(
                "prusa-slicer", f"exit code {result.returncode}: {reason or 'no message'}"
            )
        return result

    def _result(self, gcode: bytes) -> SliceResult:
        tail = gcode[-65536:]
        time = _TIME.search(tail)
        grams, mm, cm3 = _GRAMS.search(tail), _MM.search(tail), _CM3.search(tail)
        if time is None or mm is None:
            raise SlicerFailed("prusa-slicer", "the G-code has no time or filament summary")
        filament_g = float(grams.group(1)) if grams else 0.0
        if filament_g == 0.0 and cm3 is not None:
            filament_g = float(cm3.group(1))  # density unknown to the slicer: report cm3
        return SliceResult(
            print_time_s=parse_duration(time.group(1).decode()),
            filament_mm=float(mm.group(1)),
            filament_g=filament_g,
            gcode=gcode,
            slicer="PrusaSlicer",
        )


def _reason(result: subprocess.CompletedProcess[str]) -> str:
    """The slicer's own words: its non-trace lines, last first."""
    lines = [
        ln.strip()
        for ln in (result.stderr + "\n" + result.stdout).splitlines()
        if ln.strip() and "[trace]" not in ln and "[debug]" not in ln and "=>" not in ln
    ]
    return " | ".join(lines[-3:])[:500]
