"""What a unit costs when line l is made on machine m: the objective of the planner.

All money is in minor units (cents). Defaults marked "parameter" are assumptions an
operator sets; the one sourced figure is the emission factor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from fabnet.domain.errors import InvalidInput

# DEFRA/DESNZ 2025 "Freighting goods", Vans: Average (up to 3.5 t), Diesel, per tonne-km:
# TTW 0.63130 + WTT 0.15095 kg CO2e (shared/reference/figures.md section 1a) [P].
VAN_KG_CO2E_PER_TKM = 0.63130 + 0.15095
MAX_LATE_WINDOW_DAYS = 366  # no plan is longer than a year (files.MAX_HORIZON_DAYS)
# money per unit (or parcel, kg, km, day) in minor units: 10 billion in major units. Far
# beyond any real cost; it keeps each MIP column's cost (priority 9 included) below
# HiGHS's 1e20, its infinity, and the planner's integer costs within int64 (ADR 0029)
MAX_MONEY = 1e12


@dataclass(frozen=True, slots=True)
class CostParams:
    transport_per_unit_km: float = 0.5  # parameter: courier cost per unit and km
    co2_kg_per_tkm: float = VAN_KG_CO2E_PER_TKM
    carbon_price_per_kg: float = 10.0  # parameter: what the operator charges per kg CO2e
    late_per_unit_day: float = 300.0  # parameter: penalty per unit and day late
    late_window_days: int = 3  # units may be planned at most this many days late
    unmet_per_unit: float = 100_000.0  # parameter: leaving a unit unmade
    risk_per_unit: float = 500.0  # parameter: cost of a failed unit (re-make and delay)
    fixed_per_pair: float = 0.0  # parameter: one parcel per (line, machine); 0 = splittable
    scale: int = 100  # integer costs for the flow solver = round(cost * scale)
    # Transit: (up to km, whole days on the way) bands, nearest first; a unit made on day d
    # on a machine that far from its destination arrives on day d + days. Beyond the last
    # band a destination cannot be reached. Empty: no transit time (arrival = made).
    transit: tuple[tuple[float, int], ...] = ()
    # Transport by distance band, from the logistics cost model (routing/costmodel.py):
    # (up to km, money per kg, money per kg and km), nearest first; a unit pays its mass
    # times its band's two terms (beyond the last band, the last band's). Empty: the flat
    # transport_per_unit_km.
    transport_bands: tuple[tuple[float, float, float], ...] = ()

    def __post_init__(self) -> None:
        for name in (
            "transport_per_unit_km",
            "co2_kg_per_tkm",
            "carbon_price_per_kg",
            "late_per_unit_day",
            "unmet_per_unit",
            "risk_per_unit",
            "fixed_per_pair",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInput(f"costs.{name}", "must be a number")
            if not (math.isfinite(value) and 0 <= value <= MAX_MONEY):
                raise InvalidInput(
                    f"costs.{name}", f"must be a finite number in [0, {MAX_MONEY:g}]"
                )
        for name, least, most in (
            ("late_window_days", 0, MAX_LATE_WINDOW_DAYS),
            ("scale", 1, 10**9),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInput(f"costs.{name}", "must be a whole number")
            if not least <= value <= most:
                raise InvalidInput(f"costs.{name}", f"must be in [{least}, {most}]")
        if not isinstance(self.transit, tuple) or not all(
            isinstance(b, tuple) for b in self.transit
        ):
            try:  # read from JSON: lists
                bands = tuple(tuple(b) for b in self.transit)
            except TypeError:
                raise InvalidInput("costs.transit", "must be a list of [up to km, days]") from None
            object.__setattr__(self, "transit", bands)
        last_km, last_days = 0.0, 0
        for i, band in enumerate(self.transit):
            where = f"costs.transit[{i}]"
            if not (isinstance(band, tuple | list) and len(band) == 2):
                raise InvalidInput(where, "must be [up to km, days]")
            km, days = band
            if isinstance(km, bool) or not isinstance(km, int | float) or not km > last_km:
                raise InvalidInput(where, "km must be > 0 and grow from band to band")
            if isinstance(days, bool) or not isinstance(days, int) or not last_days <= days <= 60:
                raise InvalidInput(where, "days must be whole, 0..60, never fewer than before")
            last_km, last_days = float(km), days
        self._check_transport_bands()

    def _check_transport_bands(self) -> None:
        try:
            bands = tuple(tuple(float(v) for v in b) for b in self.transport_bands)
        except (TypeError, ValueError):
            raise InvalidInput(
                "costs.transport_bands", "must be a list of [up to km, per kg, per kg-km]"
            ) from None
        last = 0.0
        for i, band in enumerate(bands):
            where = f"costs.transport_bands[{i}]"
            if len(band) != 3 or not all(math.isfinite(v) and v >= 0 for v in band):
                raise InvalidInput(where, "must be [up to km, per kg, per kg-km], each >= 0")
            if not band[0] > last:
                raise InvalidInput(where, "km must be > 0 and grow from band to band")
            last = band[0]
        object.__setattr__(self, "transport_bands", bands)

    def transport(self, km: Any, unit_mass_g: Any) -> Any:
        """What moving one unit ``km`` costs (floats or numpy arrays alike)."""
        if not self.transport_bands:
            return km * self.transport_per_unit_km
        upto = np.array([b[0] for b in self.transport_bands])
        fixed = np.array([b[1] for b in self.transport_bands])
        rate = np.array([b[2] for b in self.transport_bands])
        k = np.minimum(np.searchsorted(upto, km, side="left"), upto.size - 1)
        out = np.asarray(unit_mass_g) / 1000 * (fixed[k] + rate[k] * km)
        return float(out) if np.ndim(out) == 0 else out

    def transport_floor_per_km(self, unit_mass_g: float) -> float:
        """The least transport costs per km at any distance: a lower bound that lets the
        planner rule out machines too far to be worth pricing (exact when flat)."""
        if not self.transport_bands:
            return self.transport_per_unit_km
        kg = unit_mass_g / 1000
        *inner, last = self.transport_bands
        floor = min([kg * (f / up + r) for up, f, r in inner] + [kg * last[2]])
        return floor

    def transit_days(self, km: float) -> int | None:
        """Whole days on the way over ``km``; None when no band reaches that far."""
        if not self.transit:
            return 0
        for upto, days in self.transit:
            if km <= upto:
                return days
        return None

    def per_km(self, unit_mass_g: float) -> tuple[float, float]:
        """(transport, CO2 cost) per unit and km for a unit of ``unit_mass_g``; with
        transport bands the transport part is its floor per km (``transport`` is exact)."""
        co2 = unit_mass_g / 1e6 * self.co2_kg_per_tkm * self.carbon_price_per_kg
        return self.transport_floor_per_km(unit_mass_g), co2

    def co2_per_km(self, unit_mass_g: float) -> float:
        return unit_mass_g / 1e6 * self.co2_kg_per_tkm * self.carbon_price_per_kg
