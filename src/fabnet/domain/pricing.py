"""Pricing rules: what a producer charges, and the price of a quote from them.

A rule is the producer's own (material per kilogram, machine time per hour, a setup
charge per job, a margin). Amounts are integer minor units; a price is computed in
exact fractions and rounded once, half up, so parts always add up to the total.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from fabnet.domain.errors import InvalidInput
from fabnet.domain.units import Money


class ProducerClass(StrEnum):
    """Who a producer is, for quotes: their prices and lead times differ by class."""

    MAKER = "maker"  # a home maker with a printer or two
    FABLAB = "fablab"  # a makerspace, fab lab or school workshop
    FACTORY = "factory"  # a professional shop or micro-factory


def parse_producer_class(value: str, field: str = "producer_class") -> ProducerClass:
    try:
        return ProducerClass(value.strip().lower())
    except ValueError:
        known = ", ".join(c.value for c in ProducerClass)
        raise InvalidInput(field, f"unknown producer class {value!r}; known: {known}") from None


@dataclass(frozen=True, slots=True)
class PriceRule:
    material_per_kg_minor: int
    machine_per_hour_minor: int
    setup_minor: int = 0  # once per job
    margin_pct: float = 0.0
    currency: str = "EUR"

    def __post_init__(self) -> None:
        for name in ("material_per_kg_minor", "machine_per_hour_minor", "setup_minor"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10**9:
                raise InvalidInput(f"pricing.{name}", "must be an integer in [0, 1e9] minor units")
        if not (math.isfinite(self.margin_pct) and 0 <= self.margin_pct <= 1000):
            raise InvalidInput("pricing.margin_pct", "must be in [0, 1000] percent")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise InvalidInput("pricing.currency", "must be an ISO 4217 code like EUR")

    def price(self, *, filament_g: float, print_time_s: float, quantity: int) -> Money:
        """Price of ``quantity`` units made in one job."""
        if quantity < 1:
            raise InvalidInput("quantity", "must be at least 1")
        material = Fraction(filament_g) * quantity * self.material_per_kg_minor / 1000
        machine = Fraction(print_time_s) * quantity * self.machine_per_hour_minor / 3600
        cost = material + machine + self.setup_minor
        total = cost * (1 + Fraction(self.margin_pct) / 100)
        return Money(math.floor(total + Fraction(1, 2)), self.currency)

    def to_dict(self) -> dict[str, object]:
        return {
            "material_per_kg_minor": self.material_per_kg_minor,
            "machine_per_hour_minor": self.machine_per_hour_minor,
            "setup_minor": self.setup_minor,
            "margin_pct": self.margin_pct,
            "currency": self.currency,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, object]) -> PriceRule:
        known = {"material_per_kg_minor", "machine_per_hour_minor", "setup_minor", "margin_pct"}
        unknown = set(raw) - known - {"currency"}
        if unknown:
            raise InvalidInput(f"pricing.{sorted(unknown)[0]}", "unknown field")
        missing = {"material_per_kg_minor", "machine_per_hour_minor"} - set(raw)
        if missing:
            raise InvalidInput(f"pricing.{sorted(missing)[0]}", "is required")
        margin = raw.get("margin_pct", 0.0)
        if not isinstance(margin, int | float) or isinstance(margin, bool):
            raise InvalidInput("pricing.margin_pct", "must be a number")
        currency = raw.get("currency", "EUR")
        if not isinstance(currency, str):
            raise InvalidInput("pricing.currency", "must be a string")
        return cls(
            material_per_kg_minor=raw["material_per_kg_minor"],  # type: ignore[arg-type]
            machine_per_hour_minor=raw["machine_per_hour_minor"],  # type: ignore[arg-type]
            setup_minor=raw.get("setup_minor", 0),  # type: ignore[arg-type]
            margin_pct=float(margin),
            currency=currency,
        )
