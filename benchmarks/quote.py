"""Quote benchmark: the fast estimate against PrusaSlicer, and the speed of analysis.

    python benchmarks/quote.py [--json] [--per-kind 3]
    python benchmarks/quote.py --calibrate [--write]   # fit the estimate's coefficients

Corpus: parts generated in code (fabnet.sim.corpus, seed 7: boxes, cylinders, tubes,
brackets with holes, lattices, thin-walled cups, blobs, tall and flat parts, cones,
headbands) plus the sample models PrusaSlicer installs under /usr/share/PrusaSlicer/
shapes, and the real printable parts of ../shared/testdata/real-parts. The calibration
corpus is generated parts of seed 101 and one half of the real parts (the even places
in name order); the benchmark grades seed 7, the shapes and the other half of the real
parts, so it never grades a part the coefficients were fitted on. Figures are given
separately for generated and real parts. Errors are absolute percentage errors of the
fast estimate against PrusaSlicer on the same profile (the reference profile).

Speed: analysis of a 100k- and a 1M-triangle binary STL (median of runs), a full quote
of the 100k part through the service (analysis, estimate, every machine of a 200-machine
hub checked and priced), and PrusaSlicer slicing the same 100k part, in the same run.
Baselines in the same run: trimesh's own load + watertight + volume for analysis, and
PrusaSlicer for the quote.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import trimesh
from manifold3d import Manifold, OpType

from fabnet.adapters.geometry import TrimeshAnalyzer
from fabnet.adapters.memory import InMemoryUnitOfWork
from fabnet.adapters.memory.store import InMemoryBlobStore
from fabnet.adapters.slicer import PrusaSlicer
from fabnet.domain.access import Principal
from fabnet.domain.states import Role
from fabnet.fabrication.estimate import TIME_FEATURES, estimate, features
from fabnet.services import commands as cmd
from fabnet.services.messagebus import MessageBus
from fabnet.services.ports import FixedClock, Policy, SeededIds
from fabnet.services.quotes import reference_profile
from fabnet.sim.corpus import corpus

SHAPES = Path("/usr/share/PrusaSlicer/shapes")
REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "testdata" / "real-parts"
RIDGE = 0.005
CALIBRATION = Path(__file__).resolve().parent.parent / "src/fabnet/fabrication/calibration.py"


def parts(seed: int, per_kind: int, with_shapes: bool) -> list[tuple[str, bytes]]:
    out = [(p.name + ".stl", p.stl()) for p in corpus(seed, per_kind)]
    if with_shapes:
        out += [(f.name, f.read_bytes()) for f in sorted(SHAPES.glob("*.stl"))]
    return out


def real_parts(calibration: bool) -> list[tuple[str, bytes]]:
    """One half of the real parts: the even places in name order (calibration) or the odd."""
    files = sorted(p for p in REAL.iterdir() if p.suffix.lower() in (".stl", ".3mf"))
    if not files:
        raise SystemExit(f"no real parts under {REAL}")
    half = files[0::2] if calibration else files[1::2]
    return [(p.name, p.read_bytes()) for p in half]


def errors(rows: list[dict[str, object]]) -> dict[str, float]:
    t = [ape(r["est_time_s"], r["slicer_time_s"]) for r in rows]  # type: ignore[arg-type]
    signed = [
        (r["est_time_s"] - r["slicer_time_s"]) / r["slicer_time_s"] * 100  # type: ignore[operator]
        for r in rows
    ]
    f = [ape(r["est_filament_mm"], r["slicer_filament_mm"]) for r in rows]  # type: ignore[arg-type]
    return {
        "parts": len(rows),
        "time_median_ape": round(statistics.median(t), 2),
        "time_p90_ape": round(float(np.percentile(t, 90)), 2),
        "time_median_signed_pct": round(statistics.median(signed), 2),
        "filament_median_ape": round(statistics.median(f), 2),
        "filament_p90_ape": round(float(np.percentile(f, 90)), 2),
    }


def measure(items: list[tuple[str, bytes]]) -> list[dict[str, object]]:
    analyzer, slicer = TrimeshAnalyzer(), PrusaSlicer()

    def one(item: tuple[str, bytes]) -> dict[str, object]:
        name, data = item
        facts = analyzer.analyse(name, data)
        profile = reference_profile(facts, "PLA")
        est = estimate(facts, profile)
        sliced = slicer.slice(name, data, profile)
        time_f, vol_f, _ = features(facts, profile)
        return {
            "name": name,
            "triangles": facts.triangles,
            "est_time_s": est.print_time_s,
            "est_filament_g": est.filament_g,
            "slicer_time_s": sliced.print_time_s,
            "slicer_filament_g": sliced.filament_g,
            "est_filament_mm": est.filament_mm,
            "slicer_filament_mm": sliced.filament_mm,
            "time_features": time_f,
            "volume_features": vol_f,
        }

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(one, items))


def ape(est: float, ref: float) -> float:
    return abs(est - ref) / ref * 100


def calibrate(rows: list[dict[str, object]]) -> tuple[list[float], list[float]]:
    """Non-negative least squares on relative errors (each row divided by its target)."""
    from scipy.optimize import nnls

    x = np.array([r["time_features"] for r in rows], dtype=float)
    y = np.array([r["slicer_time_s"] for r in rows], dtype=float)
    # ridge towards 1 for the physical features (paths at their speeds), so that
    # correlated features cannot trade weight and extrapolate badly to odd parts
    physical = len(TIME_FEATURES) - 3
    weight = math.sqrt(RIDGE * len(y))
    prior = np.hstack([np.eye(physical), np.zeros((physical, 3))]) * weight
    a = np.vstack([x / y[:, None], prior])
    b = np.concatenate([np.ones(len(y)), np.full(physical, weight)])
    time_coef, _ = nnls(a, b)
    v = np.array([r["volume_features"] for r in rows], dtype=float)
    section = math.pi * (1.75 / 2) ** 2  # the reference filament
    length = np.array([r["slicer_filament_mm"] for r in rows], dtype=float)
    # the skirt is one loop of known length and width: its coefficient stays 1
    rest = length - v[:, 3] / section
    fitted, _ = nnls(v[:, :3] / section / length[:, None], rest / length)
    fil_coef = np.append(fitted, 1.0)
    return [float(c) for c in time_coef], [float(c) for c in fil_coef]


def write_calibration(
    time_coef: list[float], fil_coef: list[float], n: int, n_real: int, weight: int
) -> None:
    names = "\n".join(
        f"#   {name}: {c:.4f}" for name, c in zip(TIME_FEATURES, time_coef, strict=True)
    )
    CALIBRATION.write_text(
        '"""Coefficients of the fast estimate, fitted against PrusaSlicer 2.5 (non-negative\n'
        "least squares on relative error) by ``python benchmarks/quote.py --calibrate --write``\n"
        f"on its calibration corpus ({n} generated parts, seed 101; the benchmark uses seed 7;\n"
        f"and {n_real} real parts, the even places of ../shared/testdata/real-parts, each\n"
        f'counted {weight} times; the benchmark grades the others)."""\n\n'
        f"# time features (estimate.TIME_FEATURES), fitted {datetime.now(UTC):%Y-%m-%d}:\n"
        f"{names}\n"
        "TIME_COEF = (\n" + "".join(f"    {c:.6g},\n" for c in time_coef) + ")\n"
        "# volumes: perimeters, skins, infill, skirt\n"
        f"FILAMENT_COEF = ({', '.join(f'{c:.6g}' for c in fil_coef)})\n",
        encoding="utf-8",
    )


def dense_part(triangles: int) -> bytes:
    """A blob of fused spheres with ``triangles`` faces (+-0.5%): a coarse closed mesh
    from manifold3d, subdivided (each face into four) until it is large enough."""
    base = triangles
    while base > 40_000:
        base //= 4
    segments = int(math.sqrt(base / 0.6))
    spheres = [Manifold.sphere(20, segments)]
    for dx in (-14, 14):
        spheres.append(Manifold.sphere(12, segments // 2).translate([dx, 0, 10]))
    mesh = Manifold.batch_boolean(spheres, OpType.Add).to_mesh()
    tm = trimesh.Trimesh(np.asarray(mesh.vert_properties)[:, :3], np.asarray(mesh.tri_verts))
    while len(tm.faces) * 4 <= triangles * 1.3:
        tm = tm.subdivide()
    tm.apply_translation(-tm.bounds[0])
    return bytes(trimesh.exchange.stl.export_stl(tm))


def timed(fn: object, runs: int) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def trimesh_baseline(data: bytes) -> None:
    mesh = trimesh.load(trimesh.util.wrap_as_stream(data), file_type="stl")
    _ = mesh.is_watertight, mesh.volume, mesh.area


def quote_bus() -> MessageBus:
    uow = InMemoryUnitOfWork()
    clock = FixedClock(datetime(2026, 11, 22, tzinfo=UTC))
    ids = SeededIds(1)
    bus = MessageBus(
        uow=uow,
        clock=clock,
        ids=ids,
        mesh=TrimeshAnalyzer(),
        policy=Policy(),
        blobs=InMemoryBlobStore(),
    )
    operator = Principal(id="op", role=Role.OPERATOR)  # type: ignore[arg-type]
    rng = np.random.default_rng(3)
    for i in range(50):
        machines = tuple(
            cmd.MachineSpec(
                name=f"printer {j}",
                process="fdm",
                materials=("PLA", "PETG"),
                build_volume_mm=(float(rng.choice([180, 220, 250])),) * 2 + (200.0,),
            )
            for j in range(4)
        )
        spec = cmd.FacilitySpec(
            name=f"maker {i}",
            lat=52 + rng.random(),
            lon=13 + rng.random(),
            machines=machines,
            producer_class=("maker", "fablab", "factory")[i % 3],
        )
        bus.handle(cmd.RegisterProducer(actor=operator, facility=spec))
    return bus


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--per-kind", type=int, default=3)
    ap.add_argument("--calibrate", action="store_true")
    ap.add_argument("--write", action="store_true", help="with --calibrate: update the file")
    ap.add_argument(
        "--real-weight",
        type=int,
        default=3,
        help="with --calibrate: each real part counts this many times (3: the lowest "
        "leave-one-out mean error over the calibration corpus among 1, 2, 3, 5, 8)",
    )
    args = ap.parse_args()
    if args.calibrate:
        generated = measure(parts(101, 4, with_shapes=False))
        real = measure(real_parts(calibration=True))
        rows = generated + real * args.real_weight
        time_coef, fil_coef = calibrate(rows)
        for name, c in zip(TIME_FEATURES, time_coef, strict=True):
            print(f"{name:28} {c:.4f}")
        print("filament", [round(c, 4) for c in fil_coef])
        if args.write:
            write_calibration(time_coef, fil_coef, len(generated), len(real), args.real_weight)
            print(f"wrote {CALIBRATION}")
        return
    rows = measure(parts(7, args.per_kind, with_shapes=True))
    real_rows = measure(real_parts(calibration=False))
    t_err = [ape(r["est_time_s"], r["slicer_time_s"]) for r in rows]  # type: ignore[arg-type]
    # in mm of filament: the same ratio as grams, but PrusaSlicer prints grams to 0.01 g
    f_err = [ape(r["est_filament_mm"], r["slicer_filament_mm"]) for r in rows]  # type: ignore[arg-type]
    part_100k, part_1m = dense_part(100_000), dense_part(1_000_000)
    analyzer = TrimeshAnalyzer()
    analyzer.analyse("warm.stl", part_100k)
    bus = quote_bus()
    actor = Principal(id="c", role=Role.CONSUMER)  # type: ignore[arg-type]
    request = cmd.RequestQuote(actor=actor, filename="p.stl", data=part_100k, quantity=100)
    slicer = PrusaSlicer()
    facts = analyzer.analyse("p.stl", part_100k)
    profile = reference_profile(facts, "PLA")
    figures: dict[str, object] = {
        "parts": len(rows),
        "time_median_ape": round(statistics.median(t_err), 2),
        "time_p90_ape": round(float(np.percentile(t_err, 90)), 2),
        "filament_median_ape": round(statistics.median(f_err), 2),
        "filament_p90_ape": round(float(np.percentile(f_err, 90)), 2),
        "generated": errors(rows),
        "real_held_out": errors(real_rows),
        "triangles_100k": facts.triangles,
        "analyse_100k_s": round(timed(lambda: analyzer.analyse("p.stl", part_100k), 5), 4),
        "analyse_1m_s": round(timed(lambda: analyzer.analyse("p.stl", part_1m), 3), 3),
        "trimesh_load_1m_s": round(timed(lambda: trimesh_baseline(part_1m), 3), 3),
        "quote_100k_s": round(timed(lambda: bus.handle(request), 5), 4),
        "prusaslicer_100k_s": round(timed(lambda: slicer.slice("p.stl", part_100k, profile), 1), 3),
    }
    figures["slicer_over_quote"] = round(
        figures["prusaslicer_100k_s"] / figures["quote_100k_s"],  # type: ignore[operator]
        1,
    )
    figures["trimesh_over_analyse_1m"] = round(
        figures["trimesh_load_1m_s"] / figures["analyse_1m_s"],  # type: ignore[operator]
        2,
    )
    if args.json:
        json.dump(figures, sys.stdout, indent=2)
        print()
        return
    all_rows = rows + real_rows
    t_all = [ape(r["est_time_s"], r["slicer_time_s"]) for r in all_rows]  # type: ignore[arg-type]
    f_all = [ape(r["est_filament_mm"], r["slicer_filament_mm"]) for r in all_rows]  # type: ignore[arg-type]
    for r, te, fe in zip(all_rows, t_all, f_all, strict=True):
        print(
            f"{r['name']:28} time {r['est_time_s']:8.0f} vs {r['slicer_time_s']:8.0f} s"
            f" ({te:5.1f}%)  filament {r['est_filament_g']:7.1f} vs"
            f" {r['slicer_filament_g']:7.1f} g ({fe:5.1f}%)"
        )
    for key, value in figures.items():
        print(f"{key:26} {value}")


if __name__ == "__main__":
    main()
