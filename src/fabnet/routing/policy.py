"""The operator's logistics policy: prices of time and carbon, the hubs' reach, the
measured cost rates, transit bands, the airspace and the modes. Plain data, light to
import (no numpy): the services' Policy holds one, and routing/dispatch.py obeys it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from fabnet.domain.errors import InvalidInput
from fabnet.routing.airspace import Airspace
from fabnet.routing.modes import CARRIER, MODES, Mode

# A hub's default transit bands (up to km, days on the way): 0 days within a metro region
# (same-day courier: a parameter); 1 day to 800 km (about one driving day under the US
# hours-of-service rules, figures.md section 2 [D]); 2 days to 2,000 km (a parameter);
# beyond that, 10 days anywhere on Earth (air freight door to door takes 5-10 days,
# figures.md section 2 [S]: the plan takes the long end, to promise no deadline it misses).
HUB_TRANSIT: tuple[tuple[float, int], ...] = ((50.0, 0), (800.0, 1), (2000.0, 2), (20040.0, 10))

CARRIER_MODE = CARRIER.name


@dataclass(frozen=True, slots=True)
class Weights:
    """The operator's prices of time and carbon, in minor units (parameters: no source
    gives them; a hub sets its own). Money counts 1 per minor unit."""

    value_of_time_per_h: float = 100.0
    co2_price_per_kg: float = 100.0

    def __post_init__(self) -> None:
        for name in ("value_of_time_per_h", "co2_price_per_kg"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise InvalidInput(f"logistics.weights.{name}", "must be a number >= 0")


@dataclass(frozen=True)
class LogisticsPolicy:
    weights: Weights = field(default_factory=Weights)
    local_radius_km: float = 40.0  # a hub's couriers serve places this far from it
    hub_radius_km: float = 0.5  # a destination this close to a hub is the hub
    detour: float = 1.0  # road km per great-circle km (no road network offline)
    # routed km per km of direct round trips: benchmarks/routing.py, 1,000 metro stops,
    # 1,556.0 km against 16,917.1 km (2026-12-02); re-measure and set per hub
    consolidation: float = 0.092
    # money per kg-km on consolidated courier routes (routing/costmodel.py): measured by
    # benchmarks/routing.py on the same 1,000-stop run; the planner prices transport by it
    courier_cost_per_kg_km: float = 16.26  # 1,000 stops, 2026-12-03: 144,859 / 8,908 kg-km
    # the carrier's price per kg-km beyond a hub's reach: no source gives one, so a
    # parameter; None: the couriers' measured rate (distance then weighs as it does near)
    carrier_cost_per_kg_km: float | None = None
    carrier_min_days: int = 0  # a parameter: 1 where the hub has no same-day service
    same_day_h: float = 4.0  # a parameter: the same-day service's hours door to door
    transit: tuple[tuple[float, int], ...] = HUB_TRANSIT
    airspace: Airspace = field(default_factory=Airspace)
    budget_s: float = 2.0  # the solver's time for one wave, all hubs together
    # stops one hub routes in one wave (its distance matrices grow with the square): the
    # earliest due first, the rest wait for the next wave, saying so
    max_stops_per_hub: int = 1000
    modes: dict[str, Mode] = field(default_factory=lambda: dict(MODES))

    def __post_init__(self) -> None:
        for name in ("local_radius_km", "hub_radius_km", "consolidation", "budget_s", "same_day_h"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise InvalidInput(f"logistics.{name}", "must be a number > 0")
        if not (isinstance(self.max_stops_per_hub, int) and 1 <= self.max_stops_per_hub <= 5000):
            raise InvalidInput("logistics.max_stops_per_hub", "a whole number in 1..5000")
        if not 1.0 <= self.detour <= 3.0:
            raise InvalidInput("logistics.detour", "must be in [1, 3]")

    def mode(self, name: str) -> Mode:
        try:
            return self.modes[name]
        except KeyError:
            raise InvalidInput("mode", f"choose from {', '.join(sorted(self.modes))}") from None

    def transit_days(self, km: float) -> int | None:
        for up_to, days in self.transit:
            if km <= up_to:
                return days
        return None
