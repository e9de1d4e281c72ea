"""FDM print profiles: the settings that decide time and material.

The reference profile is PrusaSlicer 2.5's own built-in default print, filament and
printer settings (``prusa-slicer --save defaults.ini``), except where a value must come
from the machine (bed, height, nozzle) or the material (density). PLA's density, 1.24
g/cm3, is NatureWorks' datasheet figure for Ingeo PLA; other materials take theirs from
``FILAMENT_DENSITY_G_CM3`` and a machine owner can override every value.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from fabnet.domain.errors import InvalidInput

# Datasheet densities (g/cm3). PLA: NatureWorks Ingeo 4043D; PETG: Eastman Eastar 6763;
# ABS: INEOS Terluran GP-35; TPU: BASF Elastollan 1185A. Others: the profile's own value.
FILAMENT_DENSITY_G_CM3 = {"PLA": 1.24, "PETG": 1.27, "ABS": 1.04, "TPU": 1.12}


@dataclass(frozen=True, slots=True)
class FdmProfile:
    name: str = "reference"
    layer_height_mm: float = 0.3
    first_layer_height_mm: float = 0.35
    nozzle_mm: float = 0.4
    filament_diameter_mm: float = 1.75
    filament_density_g_cm3: float = 1.24
    perimeters: int = 3
    top_solid_layers: int = 3
    bottom_solid_layers: int = 3
    infill_density: float = 0.20
    fill_pattern: str = "stars"
    solid_infill_below_area_mm2: float = 70.0
    perimeter_speed_mm_s: float = 60.0
    external_perimeter_speed_mm_s: float = 30.0  # PrusaSlicer: 50% of perimeter speed
    small_perimeter_speed_mm_s: float = 15.0
    infill_speed_mm_s: float = 80.0
    solid_infill_speed_mm_s: float = 20.0
    top_solid_infill_speed_mm_s: float = 15.0
    first_layer_speed_mm_s: float = 30.0
    travel_speed_mm_s: float = 130.0
    acceleration_mm_s2: float = 1500.0  # machine_max_acceleration_extruding
    skirts: int = 1
    skirt_distance_mm: float = 6.0
    bed_x_mm: float = 200.0
    bed_y_mm: float = 200.0
    max_height_mm: float = 200.0
    temperature_c: int = 200
    bed_temperature_c: int = 60

    def __post_init__(self) -> None:
        checks = (
            ("layer_height_mm", 0.01 <= self.layer_height_mm <= self.nozzle_mm),
            ("first_layer_height_mm", 0.01 <= self.first_layer_height_mm <= 2 * self.nozzle_mm),
            ("nozzle_mm", 0.1 <= self.nozzle_mm <= 2.0),
            ("filament_diameter_mm", self.filament_diameter_mm in (1.75, 2.85, 3.0)),
            ("filament_density_g_cm3", 0.5 <= self.filament_density_g_cm3 <= 3.0),
            ("perimeters", 1 <= self.perimeters <= 20),
            ("top_solid_layers", 0 <= self.top_solid_layers <= 50),
            ("bottom_solid_layers", 0 <= self.bottom_solid_layers <= 50),
            ("infill_density", 0.0 <= self.infill_density <= 1.0),
        )
        for name, ok in checks:
            if not ok:
                raise InvalidInput(name, f"{getattr(self, name)!r} is out of range")
        speeds = [n for n in self.__dataclass_fields__ if n.endswith("_mm_s")]
        for name in speeds:
            if not 1.0 <= getattr(self, name) <= 1000.0:
                raise InvalidInput(name, "must be between 1 and 1000 mm/s")

    @property
    def extrusion_width_mm(self) -> float:
        """PrusaSlicer's automatic width for a 0.4 mm nozzle: 1.125 x the nozzle."""
        return 1.125 * self.nozzle_mm

    def for_machine(
        self,
        *,
        bed_x_mm: float,
        bed_y_mm: float,
        max_height_mm: float,
        nozzle_mm: float | None,
        material: str,
    ) -> FdmProfile:
        return replace(
            self,
            bed_x_mm=bed_x_mm,
            bed_y_mm=bed_y_mm,
            max_height_mm=max_height_mm,
            nozzle_mm=nozzle_mm or self.nozzle_mm,
            filament_density_g_cm3=FILAMENT_DENSITY_G_CM3.get(
                material, self.filament_density_g_cm3
            ),
        )


REFERENCE = FdmProfile()
