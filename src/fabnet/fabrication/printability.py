"""Can this machine print this part? Fit in some orientation, supports, thin walls,
material. A verdict with reasons, never an exception: an unprintable part is a result."""

from __future__ import annotations

from dataclasses import dataclass

from fabnet.fabrication.meshes import MeshFacts, Orientation

SUPPORT_AREA_MM2 = 1.0  # overhang below this is a chamfer's worth: no support needed


@dataclass(frozen=True, slots=True)
class Printability:
    printable: bool
    orientation: Orientation | None  # the best one that fits (least support, then height)
    supports_needed: bool
    thin_walls: bool
    material_ok: bool
    reasons: tuple[str, ...]  # why not printable, and warnings


def fits(o: Orientation, build_mm: tuple[float, float, float]) -> bool:
    x, y, z = o.size_mm
    bx, by, bz = build_mm
    return z <= bz and ((x <= bx and y <= by) or (y <= bx and x <= by))


def assess(
    facts: MeshFacts,
    *,
    build_mm: tuple[float, float, float],
    nozzle_mm: float | None,
    materials: tuple[str, ...],
    material: str,
) -> Printability:
    reasons: list[str] = []
    fitting = [o for o in facts.orientations if fits(o, build_mm)]
    best = min(fitting, key=lambda o: (o.overhang_area_mm2, o.size_mm[2]), default=None)
    if best is None:
        smallest = min(facts.orientations, key=lambda o: o.size_mm[2], default=None)
        size = smallest.size_mm if smallest else facts.bbox_mm
        reasons.append(
            "does not fit the build volume "
            f"{build_mm[0]:g} x {build_mm[1]:g} x {build_mm[2]:g} mm in any orientation "
            f"(smallest: {size[0]:.1f} x {size[1]:.1f} x {size[2]:.1f} mm)"
        )
    material_ok = material in materials
    if not material_ok:
        reasons.append(f"the machine has no {material} (it has {', '.join(materials) or 'none'})")
    supports = best is not None and best.overhang_area_mm2 >= SUPPORT_AREA_MM2
    if supports and best is not None:
        reasons.append(
            f"needs support: {best.overhang_area_mm2:.0f} mm2 overhangs beyond 45 degrees"
        )
    nozzle = nozzle_mm or 0.4
    thin = facts.min_wall_mm is not None and facts.min_wall_mm < 2 * nozzle
    if thin and facts.min_wall_mm is not None:
        reasons.append(
            f"thin walls: down to {facts.min_wall_mm:.2f} mm, under two nozzle widths "
            f"({2 * nozzle:.2f} mm)"
        )
    return Printability(
        printable=best is not None and material_ok,
        orientation=best,
        supports_needed=supports,
        thin_walls=thin,
        material_ok=material_ok,
        reasons=tuple(reasons),
    )
