"""Seeded scenarios: a producer network at real places and the orders it must serve.

Figures used (see shared/reference/figures.md, section 4):
- one face-shield headband takes "about an hour and twenty minutes to print" (4,800 s;
  Prusa, quoted in ASME Mechanical Engineering 143(1):38, 2021) [S].
Everything else here (the mix of home makers, shops and factories, their hours, the
order mix, deadlines, failure and acceptance rates) is an assumption of the scenario,
kept as a parameter and named as such in docs/demo.md.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fabnet.adapters.gazetteer import City, Gazetteer
from fabnet.domain.units import Place
from fabnet.services.commands import FacilitySpec, MachineSpec

FACE_SHIELD_PRINT_S = 4_800.0  # Prusa headband, figures.md section 4 [S]


@dataclass(frozen=True)
class ProducerKind:
    name: str
    share: float  # of all producers
    printers: tuple[int, int]  # inclusive range per producer
    hours_per_day: float
    speed_factor: float


@dataclass(frozen=True)
class PartSpec:
    name: str
    size_mm: tuple[float, float, float]
    print_time_s: float
    materials: tuple[str, ...]


@dataclass(frozen=True)
class ScenarioConfig:
    """Every knob of a demo run. Defaults are assumptions, not sourced figures."""

    producers: int
    surge_units: int
    small_orders: int
    country: str = "DE"
    surge_deadline_days: float = 5.0
    small_order_units: tuple[int, int] = (1, 60)
    small_deadline_days: tuple[float, float] = (3.0, 10.0)
    hospitals: int = 8  # surge destinations: the largest cities of the region
    kinds: tuple[ProducerKind, ...] = (
        ProducerKind("home maker", 0.85, (1, 1), 20.0, 1.0),
        ProducerKind("shop", 0.13, (3, 8), 22.0, 1.0),
        ProducerKind("factory", 0.02, (20, 50), 24.0, 1.2),
    )
    failure_rate: float = 0.05  # chance that a job fails part-way (user parameter)
    unreliable_share: float = 0.0  # producers (hidden from the hub) who fail far more often
    unreliable_failure_rate: float = 0.30  # ...and their chance (user parameter)
    accept_rate: float = 0.95  # chance that a producer accepts an offer (user parameter)
    response_minutes: tuple[float, float] = (5.0, 90.0)  # time to answer an offer
    jitter: float = 0.10  # relative spread of real print times around the estimate
    # couriers based at each surge hospital (the hub): an assumption of the scenario
    vans_per_hub: int = 2
    drones_per_hub: int = 1
    routing_every_h: float = 3.0  # hours between routing waves
    routing_budget_s: float = 0.15  # the solver's time for one wave (all hubs)
    surge_part: PartSpec = PartSpec(
        "face shield headband", (180.0, 160.0, 20.0), FACE_SHIELD_PRINT_S, ("PETG", "PLA")
    )
    other_parts: tuple[PartSpec, ...] = (
        PartSpec("cable clip", (30.0, 12.0, 8.0), 600.0, ("PLA", "PETG")),
        PartSpec("door handle adapter", (90.0, 40.0, 35.0), 5_400.0, ("PETG",)),
        PartSpec("valve knob", (45.0, 45.0, 25.0), 2_400.0, ("PLA", "PETG", "ABS")),
        PartSpec("enclosure lid", (200.0, 150.0, 15.0), 10_800.0, ("PETG", "ABS")),
    )


SIZES: dict[str, ScenarioConfig] = {
    "small": ScenarioConfig(producers=60, surge_units=2_000, small_orders=10),
    "medium": ScenarioConfig(
        producers=600, surge_units=20_000, small_orders=60, vans_per_hub=6, drones_per_hub=2
    ),
    "large": ScenarioConfig(
        producers=3_000, surge_units=50_000, small_orders=300, vans_per_hub=15, drones_per_hub=3
    ),
}


@dataclass(frozen=True)
class OrderPlan:
    part: PartSpec
    material: str
    units: int
    deadline: datetime
    destination: Place
    priority: int
    reference: str


@dataclass(frozen=True)
class CourierPlan:
    name: str
    mode: str
    base: Place


@dataclass
class Scenario:
    facilities: list[FacilitySpec]
    orders: list[OrderPlan]
    parts: list[PartSpec] = field(default_factory=list)
    couriers: list[CourierPlan] = field(default_factory=list)


def _near(rng: random.Random, city: City, spread_km: float) -> Place:
    """A point a few kilometres from the city centre (people do not all live at it)."""
    km_per_deg = 111.32
    dlat = rng.gauss(0.0, spread_km) / km_per_deg
    shrink = max(0.2, math.cos(math.radians(city.place.lat)))
    dlon = rng.gauss(0.0, spread_km) / (km_per_deg * shrink)
    lat = min(90.0, max(-90.0, city.place.lat + dlat))
    lon = ((city.place.lon + dlon + 180.0) % 360.0) - 180.0
    return Place(lat, lon)


def _stock(rng: random.Random, kind: ProducerKind, usual: str) -> tuple[str, ...]:
    """What a printer has on hand: home makers one or two filaments, shops also ABS."""
    if kind.printers[1] > 1:
        return ("PLA", "PETG", "ABS")
    return ("PLA", "PETG") if rng.random() < 0.7 else (usual,)


def build(config: ScenarioConfig, *, seed: int, start: datetime, gazetteer: Gazetteer) -> Scenario:
    rng = random.Random(seed)
    cities = gazetteer.in_country(config.country)
    if len(cities) < config.hospitals:
        raise ValueError(f"too few known cities in {config.country!r}")
    weights = [c.population for c in cities]
    facilities = []
    kinds = list(config.kinds)
    for i in range(config.producers):
        kind = rng.choices(kinds, weights=[k.share for k in kinds])[0]
        city = rng.choices(cities, weights=weights)[0]
        count = rng.randint(*kind.printers)
        material = rng.choice(("PETG", "PLA"))
        machines = tuple(
            MachineSpec(
                name=f"printer-{n + 1}",
                process="fdm",
                materials=_stock(rng, kind, material),
                build_volume_mm=rng.choice(((250, 210, 210), (220, 220, 250), (300, 300, 400))),
                make="Prusa" if rng.random() < 0.5 else "Creality",
                nozzle_mm=0.4,
                hours_per_day=kind.hours_per_day,
                speed_factor=kind.speed_factor,
            )
            for n in range(count)
        )
        facilities.append(
            FacilitySpec(
                name=f"{kind.name} {i + 1} ({city.name})",
                lat=(p := _near(rng, city, 5.0)).lat,
                lon=p.lon,
                address=f"{city.name}, {city.country}",
                external_ref=f"demo-{seed}-{i}",
                machines=machines,
            )
        )
    orders = []
    hospitals = cities[: config.hospitals]
    share = config.surge_units // len(hospitals)
    for h, city in enumerate(hospitals):
        units = share + (config.surge_units - share * len(hospitals) if h == 0 else 0)
        orders.append(
            OrderPlan(
                part=config.surge_part,
                material="PETG",
                units=units,
                deadline=start + timedelta(days=config.surge_deadline_days),
                destination=city.place,
                priority=5,
                reference=f"surge-{h + 1}",
            )
        )
    for n in range(config.small_orders):
        part = rng.choice(config.other_parts)
        city = rng.choices(cities, weights=weights)[0]
        orders.append(
            OrderPlan(
                part=part,
                material=rng.choice(part.materials),
                units=rng.randint(*config.small_order_units),
                deadline=start + timedelta(days=rng.uniform(*config.small_deadline_days)),
                destination=_near(rng, city, 3.0),
                priority=0,
                reference=f"order-{n + 1}",
            )
        )
    couriers = [
        CourierPlan(f"{mode} {n + 1} ({city.name})", mode, city.place)
        for city in hospitals
        for mode, count in (("van", config.vans_per_hub), ("drone", config.drones_per_hub))
        for n in range(count)
    ]
    return Scenario(facilities, orders, [config.surge_part, *config.other_parts], couriers)
