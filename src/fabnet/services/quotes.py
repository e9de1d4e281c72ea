"""Instant quotes: analyse the mesh, estimate time and filament, check every machine,
price per producer, and give one option per producer class with its lead time.

A quote stores nothing: a bad file leaves no trace, and a good one can be quoted again.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from fabnet.domain.capabilities import Process, parse_material
from fabnet.domain.errors import InvalidInput, NotFound, PayloadTooLarge
from fabnet.domain.pricing import PriceRule, ProducerClass
from fabnet.domain.producers import Machine, Producer
from fabnet.domain.units import Money
from fabnet.fabrication.estimate import PrintEstimate, estimate
from fabnet.fabrication.meshes import MeshFacts
from fabnet.fabrication.printability import Printability, assess
from fabnet.fabrication.profiles import REFERENCE, FdmProfile
from fabnet.services.commands import RequestQuote
from fabnet.services.ports import BlobStore, MeshAnalyzer, Policy, Slicer, UnitOfWork

MAX_QUANTITY = 1_000_000


@dataclass(frozen=True)
class ClassOption:
    producer_class: ProducerClass
    producers: int  # that can make it (a capable machine with the material)
    machines: int
    price_min: Money | None
    price_median: Money | None
    lead_time_days: int | None  # None: no capacity in this class
    supports_needed: bool
    co2_kg: float = 0.0  # printing electricity for the quantity (see ``printing_co2_kg``)


@dataclass(frozen=True)
class Quote:
    facts: MeshFacts
    material: str
    quantity: int
    profile: FdmProfile
    estimate: PrintEstimate
    options: tuple[ClassOption, ...]
    warnings: tuple[str, ...]
    machines_checked: int
    machines_able: int
    slicer_print_time_s: float | None = None
    slicer_filament_g: float | None = None
    slicer: str | None = None
    unprintable_reasons: dict[str, int] = field(default_factory=dict)  # reason -> machines


def reference_profile(facts: MeshFacts, material: str) -> FdmProfile:
    """The reference FDM profile, on a bed large enough for the part."""
    x, y, z = facts.bbox_mm
    side = max(REFERENCE.bed_x_mm, math.ceil(max(x, y) + 20))
    return REFERENCE.for_machine(
        bed_x_mm=side,
        bed_y_mm=side,
        max_height_mm=max(REFERENCE.max_height_mm, math.ceil(z + 10)),
        nozzle_mm=None,
        material=material,
    )


def request_quote(
    cmd: RequestQuote,
    *,
    uow: UnitOfWork,
    mesh: MeshAnalyzer,
    slicer: Slicer | None = None,
    blobs: BlobStore,
    policy: Policy,
) -> Quote:
    material = parse_material(cmd.material, Process.FDM, "material")
    if not 1 <= cmd.quantity <= MAX_QUANTITY:
        raise InvalidInput("quantity", f"must be in 1..{MAX_QUANTITY}")
    with uow:
        filename, data = _mesh_file(cmd, uow, blobs, policy)
        facts = mesh.analyse(filename, data)
        profile = reference_profile(facts, material)
        est = estimate(facts, profile)
        producers: dict[str, Producer] = {p.id: p for p in uow.producers.active()}
        machines = [
            m for m in uow.machines.available(Process.FDM.value) if m.producer_id in producers
        ]
        busy: dict[str, float] = defaultdict(float)
        for job in uow.jobs.live():
            busy[job.machine_id] += job.units_open * job.unit_time_s
    verdicts: dict[str, Printability] = {
        m.id: assess(
            facts,
            build_mm=(m.build_volume.x_mm, m.build_volume.y_mm, m.build_volume.z_mm),
            nozzle_mm=m.nozzle_mm,
            materials=m.materials,
            material=material,
        )
        for m in machines
    }
    options = tuple(
        _option(cls, producers, machines, verdicts, busy, est, cmd.quantity, policy)
        for cls in ProducerClass
    )
    reasons: dict[str, int] = defaultdict(int)
    for v in verdicts.values():
        if not v.printable:
            for r in v.reasons:
                reasons[r] += 1
    warnings = list(facts.warnings)
    if facts.min_wall_mm is not None and facts.min_wall_mm < 2 * profile.nozzle_mm:
        warnings.append(f"thin walls: down to {facts.min_wall_mm:.2f} mm")
    quote = Quote(
        facts=facts,
        material=material,
        quantity=cmd.quantity,
        profile=profile,
        estimate=est,
        options=options,
        warnings=tuple(warnings),
        machines_checked=len(machines),
        machines_able=sum(v.printable for v in verdicts.values()),
        unprintable_reasons=dict(reasons),
    )
    if cmd.exact:
        if slicer is None:
            raise InvalidInput("exact", "no slicer is configured on this hub")
        sliced = slicer.slice(filename, data, profile)
        quote = replace(
            quote,
            slicer_print_time_s=sliced.print_time_s,
            slicer_filament_g=sliced.filament_g,
            slicer=sliced.slicer,
        )
    return quote


def _mesh_file(
    cmd: RequestQuote, uow: UnitOfWork, blobs: BlobStore, policy: Policy
) -> tuple[str, bytes]:
    if bool(cmd.design_id) == bool(cmd.data or cmd.filename):
        raise InvalidInput("file", "give either a file or a design_id, not both or neither")
    if cmd.design_id:
        design = uow.designs.find(cmd.design_id)
        if design is None or not design.visible_to(cmd.actor.id, operator=cmd.actor.is_operator):
            raise NotFound("design", cmd.design_id)
        return design.filename, blobs.get(design.blob_key)
    if len(cmd.data) > policy.max_design_bytes:
        raise PayloadTooLarge("file", policy.max_design_bytes)
    return cmd.filename, cmd.data


def _option(
    cls: ProducerClass,
    producers: Mapping[str, Producer],
    machines: list[Machine],
    verdicts: Mapping[str, Printability],
    busy: dict[str, float],
    est: PrintEstimate,
    quantity: int,
    policy: Policy,
) -> ClassOption:
    able = [
        m
        for m in machines
        if verdicts[m.id].printable and producers[m.producer_id].producer_class is cls
    ]
    prices: list[Money] = []
    for pid in sorted({m.producer_id for m in able}):
        rule = producers[pid].pricing or policy.price_rules[cls]
        fastest = max(m.speed_factor for m in able if m.producer_id == pid)
        prices.append(_price(rule, est, quantity, fastest))
    if not able:  # nobody can yet: the class's default rule at reference speed
        prices = [_price(policy.price_rules[cls], est, quantity, 1.0)]
    ordered = sorted(prices, key=lambda m: m.minor)
    median = ordered[(len(ordered) - 1) // 2]
    return ClassOption(
        producer_class=cls,
        producers=len({m.producer_id for m in able}),
        machines=len(able),
        price_min=ordered[0],
        price_median=median,
        lead_time_days=lead_time_days(able, busy, est.print_time_s * quantity, policy),
        supports_needed=any(verdicts[m.id].supports_needed for m in able),
        co2_kg=printing_co2_kg(
            est.print_time_s * quantity,
            sum(m.speed_factor for m in able) / len(able) if able else 1.0,
            policy,
        ),
    )


def printing_co2_kg(work_s: float, speed: float, policy: Policy) -> float:
    """The electricity of printing ``work_s`` of reference-machine time at ``speed``:
    a desktop FDM printer's average draw (189.5 W over a 1 h PLA print, figures.md 4
    [S]) times the grid's factor (UK 2025 generation, 0.177 kg CO2e/kWh, figures.md 1a;
    both the hub's parameters). The material's own footprint is left out: no source."""
    return round(work_s / speed / 3600 * policy.printer_kw * policy.grid_kg_per_kwh, 4)


def _price(rule: PriceRule, est: PrintEstimate, quantity: int, speed: float) -> Money:
    return rule.price(
        filament_g=est.filament_g, print_time_s=est.print_time_s / speed, quantity=quantity
    )


def lead_time_days(
    machines: list[Machine], busy: dict[str, float], work_s: float, policy: Policy
) -> int | None:
    """Days until the machines' free time (after the work already planned on them, at the
    planner's load factor) covers ``work_s`` of reference-machine time."""
    if not machines:
        return None
    rates = [m.hours_per_day * 3600 * policy.load_factor * m.speed_factor for m in machines]
    backlog = [busy.get(m.id, 0.0) * m.speed_factor for m in machines]
    lo, hi = 0.0, 1.0
    while _free(hi, rates, backlog) < work_s:
        hi *= 2
        if hi > 1e6:
            return None
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _free(mid, rates, backlog) < work_s else (lo, mid)
    return max(1, math.ceil(hi - 1e-9))


def _free(days: float, rates: list[float], backlog: list[float]) -> float:
    return sum(max(0.0, days * r - b) for r, b in zip(rates, backlog, strict=True))
