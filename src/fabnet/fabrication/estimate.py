"""The fast FDM estimate: print time and filament from a mesh's integrals, no slicing.

Slicing a layer at height z cuts the surface into loops whose length, integrated over
z, is the surface integral of |sin| of each face's tilt: ``wall_area_mm2``. So the
perimeter paths of all layers are ``wall_area / layer height`` long per loop, without
cutting a single layer. Top and bottom skins cover the area that looks up or down, a
few layers deep; sparse infill fills what is left at the infill density. Each kind of
path has its speed, and the slicer's extrusion model (a rectangle with round ends,
area = spacing x height) turns volume into path length and filament.

What the geometry cannot see (acceleration at the ends of short lines, travel, small
perimeters slowed down, gap fill) is absorbed by coefficients fitted against
PrusaSlicer on a calibration corpus that is not the benchmark's (see calibration.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from fabnet.fabrication.calibration import FILAMENT_COEF, TIME_COEF
from fabnet.fabrication.meshes import LayerSample, MeshFacts
from fabnet.fabrication.profiles import FdmProfile


@dataclass(frozen=True, slots=True)
class PrintEstimate:
    print_time_s: float
    filament_mm: float
    filament_g: float
    layers: int
    volumes_mm3: dict[str, float]  # perimeters, skins, infill, skirt


SMALL_LOOP_MM = 2 * math.pi * 6.5  # PrusaSlicer slows perimeters of radius <= 6.5 mm
MIN_LAYER_S = 5.0  # PrusaSlicer's slowdown_below_layer_time (default print settings)
MIN_SPEED_MM_S = 10.0  # ...and min_print_speed: cooling never slows printing below it
TIME_FEATURES = (
    "external perimeters",
    "inner perimeters",
    "small perimeters",
    "sparse infill",
    "solid infill",
    "top infill",
    "first layer",
    "fill turnarounds",
    "thin walls (gap fill)",
    "cooling slowdown",
    "loops (travel, retraction)",
    "layers",
    "constant",
)


def features(facts: MeshFacts, p: FdmProfile) -> tuple[list[float], list[float], int]:
    """(time features in seconds, volume features in mm3, layers).

    Per-layer quantities come from the sampled cross-sections, each standing for an
    equal share of the layers; skins come from the up- and down-facing areas."""
    h, h1 = p.layer_height_mm, p.first_layer_height_mm
    height = max(facts.height_mm, h1)
    # a layer is printed when the plane through its middle cuts the part
    layers = 1 + max(0, math.floor((height - h1) / h + 0.5))
    printed = (h1 + (layers - 1) * h) / height  # the layers cut what the part is made of
    spacing = p.extrusion_width_mm - h * (1 - math.pi / 4)
    samples = facts.layers or ()
    share = layers / len(samples) if samples else 0.0
    paths = _paths(samples, share, p, spacing)
    ext_len, inner_len, small_len = paths.ext_len, paths.inner_len, paths.small_len
    crowded_len, inside_area = paths.crowded_len, paths.inside_area
    volume = facts.volume_mm3 * printed
    perimeter_vol = min((ext_len + inner_len + small_len + crowded_len) * spacing * h, volume)
    inside_vol = max(min(inside_area * h, volume - perimeter_vol), 0.0)
    skin_share = inside_vol / max(volume, 1e-9)
    top_vol = facts.up_area_mm2 * skin_share * p.top_solid_layers * h
    # the first layer inside its perimeters, at first-layer speed (its perimeters are
    # counted with the others)
    first_vol = facts.bed_area_mm2 * h1 * skin_share
    bottom_vol = max(facts.down_area_mm2 * skin_share * p.bottom_solid_layers * h - first_vol, 0)
    skins = top_vol + bottom_vol + first_vol
    if skins > inside_vol and skins > 0:  # thin parts: skins meet, never more than the part
        scale = inside_vol / skins
        top_vol, bottom_vol, first_vol = top_vol * scale, bottom_vol * scale, first_vol * scale
    rest = max(inside_vol - top_vol - bottom_vol - first_vol, 0.0)
    mean_free = inside_area / layers if layers else 0.0
    small_area = mean_free < p.solid_infill_below_area_mm2
    sparse_vol = rest * (1.0 if small_area else p.infill_density)
    first_spacing = 2 * p.nozzle_mm - h1 * (1 - math.pi / 4)  # first layer: 200% wide
    skirt_vol = (  # one loop around the part, on the first layer, as wide as that layer
        p.skirts
        * (facts.footprint_perimeter_mm + 2 * math.pi * p.skirt_distance_mm)
        * (first_spacing * h1)
    )
    solid_len = (bottom_vol + (sparse_vol if small_area else 0.0)) / (spacing * h)
    top_len = top_vol / (spacing * h)
    sparse_len = 0.0 if small_area else sparse_vol / (spacing * h)
    turn_s = p.infill_speed_mm_s / p.acceleration_mm_s2
    sparse_share = sparse_len / max(inside_area * p.infill_density / spacing, 1e-9)
    first_len = first_vol / (first_spacing * h1)
    time = [
        ext_len / p.external_perimeter_speed_mm_s,
        inner_len / p.perimeter_speed_mm_s,
        small_len / p.small_perimeter_speed_mm_s,
        sparse_len / p.infill_speed_mm_s,
        solid_len / p.solid_infill_speed_mm_s,
        top_len / p.top_solid_infill_speed_mm_s,
        first_len / p.first_layer_speed_mm_s,
        paths.turns * min(sparse_share, 1.0) * turn_s,
        crowded_len / 20.0,  # PrusaSlicer's gap_fill_speed
        paths.cooling,
        paths.loops,
        float(layers),
        1.0,
    ]
    volumes = [perimeter_vol, top_vol + bottom_vol + first_vol, sparse_vol, skirt_vol]
    return time, volumes, layers


@dataclass
class _Paths:
    """What the sampled layers add up to, over all the layers: lengths of external,
    inner and small perimeters and of crowded (thin-wall) paths in mm, the area inside
    the perimeters (mm2 over the layers), loops, infill turns and cooling waits (s)."""

    ext_len: float = 0.0
    inner_len: float = 0.0
    small_len: float = 0.0
    crowded_len: float = 0.0
    inside_area: float = 0.0
    loops: float = 0.0
    turns: float = 0.0
    cooling: float = 0.0


def _paths(samples: Sequence[LayerSample], share: float, p: FdmProfile, spacing: float) -> _Paths:
    """Each sampled layer standing for ``share`` of the layers: its perimeters (crowded
    where the walls are too thin for them), the area left inside, the infill's turns and
    the wait a layer too quick to cool needs."""
    out = _Paths()
    for sample in samples:
        outline = sum(sample.loops_mm)
        small = sum(x for x in sample.loops_mm if x < SMALL_LOOP_MM)
        crowded = outline * p.perimeters * spacing >= sample.area_mm2  # walls too thin
        ring = min(outline * p.perimeters * spacing, sample.area_mm2)
        path = ring / spacing  # all perimeter loops of this layer
        out.loops += len(sample.loops_mm) * share
        if crowded:  # thin walls: a loop or two, then gap fill, all slow
            out.crowded_len += path * share
            out.cooling += max(0.0, min(MIN_LAYER_S, path / MIN_SPEED_MM_S) - path / 20.0) * share
            continue
        big = outline - small
        inner = max(path - outline, 0.0)
        big_share = big / outline if outline > 0 else 0.0
        out.ext_len += big * share
        out.inner_len += inner * big_share * share
        out.small_len += (small + inner * (1 - big_share)) * share
        free = max(sample.area_mm2 - ring, 0.0)
        out.inside_area += free * share
        width = min(math.sqrt(free), 2 * free / outline) if free > 0 else 1.0
        out.turns += free * p.infill_density / spacing / max(width, spacing) * share
        sparse = free * p.infill_density / spacing
        t = (
            big / p.external_perimeter_speed_mm_s
            + inner * big_share / p.perimeter_speed_mm_s
            + (small + inner * (1 - big_share)) / p.small_perimeter_speed_mm_s
            + sparse / p.infill_speed_mm_s
        )
        slowest = (path + sparse) / MIN_SPEED_MM_S
        out.cooling += max(0.0, min(MIN_LAYER_S, slowest) - t) * share
    return out


def estimate(facts: MeshFacts, profile: FdmProfile) -> PrintEstimate:
    time, volumes, layers = features(facts, profile)
    seconds = sum(c * x for c, x in zip(TIME_COEF, time, strict=True))
    filament_vol = sum(c * v for c, v in zip(FILAMENT_COEF, volumes, strict=True))
    section = math.pi * (profile.filament_diameter_mm / 2) ** 2
    return PrintEstimate(
        print_time_s=max(seconds, 1.0),
        filament_mm=filament_vol / section,
        filament_g=filament_vol / 1000 * profile.filament_density_g_cm3,
        layers=layers,
        volumes_mm3=dict(zip(("perimeters", "skins", "infill", "skirt"), volumes, strict=True)),
    )
