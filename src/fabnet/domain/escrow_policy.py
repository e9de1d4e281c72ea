"""The hub's escrow policy: the terms a consumer may fund, and what both sides read.

A consumer funds an order's escrow and chooses its terms only within the operator's
bounds; what happens when the arbiter is silent is the hub's rule for that class of
order, not the consumer's pick. A producer sees the funded terms with each offer, and
accepting the job accepts them: the acceptance records the terms' digest. Lateness
penalties apply only to units of jobs accepted under the funded terms.

The defaults below are placeholders for an operator to set (FABNET_ESCROW_POLICY); no
public source gives market values for them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from fabnet.domain import events as ev
from fabnet.domain.errors import InvalidInput

UNFUNDED = "unfunded"
TERMS = (
    "amount_minor",
    "currency",
    "units",
    "inspection_window_s",
    "arbiter_timeout_s",
    "default_outcome",
    "late_penalty_minor_per_unit_day",
    "penalty_cap_permille",
)


def order_class(priority: int) -> str:
    return "urgent" if priority >= 5 else "standard"


def terms_of(funded: ev.EscrowFunded | None) -> dict[str, Any] | None:
    return None if funded is None else {name: getattr(funded, name) for name in TERMS}


def terms_digest(funded: ev.EscrowFunded | None) -> str:
    """What a producer agrees to by accepting a job: SHA-256 of the canonical terms."""
    terms = terms_of(funded)
    if terms is None:
        return UNFUNDED
    text = json.dumps(terms, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class EscrowPolicy:
    min_inspection_window_s: int = 3600
    max_inspection_window_s: int = 30 * 86_400
    min_arbiter_timeout_s: int = 3 * 86_400
    max_arbiter_timeout_s: int = 90 * 86_400
    max_penalty_cap_permille: int = 200  # penalties take at most 20% of what a producer earns
    max_daily_penalty_permille: int = 50  # a unit-day late costs at most 5% of the unit price
    default_outcomes: dict[str, str] = field(
        default_factory=lambda: {"standard": "release", "urgent": "release"}
    )

    def __post_init__(self) -> None:
        for cls, outcome in self.default_outcomes.items():
            if outcome not in ("release", "refund"):
                raise InvalidInput(f"escrow_policy.default_outcomes.{cls}", "release or refund")

    def default_outcome(self, priority: int) -> str:
        return self.default_outcomes.get(order_class(priority), "release")

    def check(
        self,
        *,
        amount_minor: int,
        units: int,
        inspection_window_s: int,
        arbiter_timeout_s: int,
        late_penalty_minor_per_unit_day: int,
        penalty_cap_permille: int,
    ) -> None:
        """Raise InvalidInput naming the first term outside the policy's bounds."""
        bounds = [
            (
                "inspection_window_s",
                inspection_window_s,
                self.min_inspection_window_s,
                self.max_inspection_window_s,
            ),
            (
                "arbiter_timeout_s",
                arbiter_timeout_s,
                self.min_arbiter_timeout_s,
                self.max_arbiter_timeout_s,
            ),
            ("penalty_cap_permille", penalty_cap_permille, 0, self.max_penalty_cap_permille),
        ]
        for name, value, lo, hi in bounds:
            if not lo <= value <= hi:
                raise InvalidInput(name, f"the hub's policy allows {lo}..{hi}, got {value}")
        unit_price = amount_minor // max(units, 1)
        most = unit_price * self.max_daily_penalty_permille // 1000
        if not 0 <= late_penalty_minor_per_unit_day <= most:
            raise InvalidInput(
                "late_penalty_minor_per_unit_day",
                f"the hub's policy allows at most {self.max_daily_penalty_permille} permille of "
                f"the unit price ({most}) per unit and day late",
            )
