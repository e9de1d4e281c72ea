"""What the geometry adapter learns about a mesh, in the orientation it was given."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Orientation:
    """One way to put the part on the bed: ``up`` is the part's direction that points up.

    ``size_mm`` is the part's extent along the bed's x, y and z once turned that way;
    ``overhang_area_mm2`` the area facing down more steeply than 45 degrees (not on the
    bed), which needs support."""

    name: str
    up: tuple[float, float, float]
    size_mm: tuple[float, float, float]
    overhang_area_mm2: float


@dataclass(frozen=True, slots=True)
class LayerSample:
    """The cross-section at one height: what a slicer sees on that layer."""

    z_mm: float
    area_mm2: float  # enclosed area (holes subtracted)
    loops_mm: tuple[float, ...]  # length of each closed loop (outlines and holes)


@dataclass(frozen=True, slots=True)
class MeshFacts:
    media_type: str
    triangles: int  # after repair
    watertight: bool  # every edge shared by exactly two faces
    winding_consistent: bool
    volume_mm3: float
    area_mm2: float
    bbox_mm: tuple[float, float, float]
    shells: int  # connected pieces
    degenerate_faces: int  # found in the file (removed by repair)
    # Integrals the fast estimate uses, in the given orientation (z up):
    wall_area_mm2: float = 0.0  # sum of area * sqrt(1 - nz^2): side walls, layer by layer
    up_area_mm2: float = 0.0  # area projected on xy of faces looking up (top skins)
    down_area_mm2: float = 0.0  # same for faces looking down (bottom skins, overhangs)
    bed_area_mm2: float = 0.0  # area touching the bed
    footprint_perimeter_mm: float = 0.0  # convex hull of the xy projection (skirt length)
    min_wall_mm: float | None = None  # thinnest wall seen by sampling (None: none < probe)
    orientations: tuple[Orientation, ...] = ()
    layers: tuple[LayerSample, ...] = ()  # evenly spaced sample of cross-sections
    repairs: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def height_mm(self) -> float:
        return self.bbox_mm[2]
