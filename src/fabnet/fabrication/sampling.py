"""Acceptance sampling of lots: ISO 2859-1 single sampling, normal inspection, general
inspection level II (the same code letters, sample sizes and Ac/Re as ANSI/ASQ Z1.4 and
their public-domain parent MIL-STD-105E, Table I and Table II-A).

Only the AQLs whose plans are sourced in ../shared/reference/figures.md section 5 are
encoded (0.65, 1.0, 2.5 and 4.0 percent nonconforming), with Table II-A's arrows already
followed (the plan "below" or "above" a letter whose own cell is an arrow). Another AQL is
refused rather than guessed. Tightened and reduced inspection (MIL-STD-105E Tables II-B
and II-C, and the switching rules) are not encoded: their tables are not among the
sourced figures, so every lot is inspected under normal inspection (docs/quality.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from fabnet.domain.errors import InvalidInput

# lot size (upper bound, inclusive) -> code letter, general inspection level II
_LETTERS: tuple[tuple[int, str], ...] = (
    (8, "A"),
    (15, "B"),
    (25, "C"),
    (50, "D"),
    (90, "E"),
    (150, "F"),
    (280, "G"),
    (500, "H"),
    (1200, "J"),
    (3200, "K"),
    (10_000, "L"),
    (35_000, "M"),
    (150_000, "N"),
    (500_000, "P"),
)
SAMPLE_SIZE = {
    "A": 2, "B": 3, "C": 5, "D": 8, "E": 13, "F": 20, "G": 32, "H": 50,
    "J": 80, "K": 125, "L": 200, "M": 315, "N": 500, "P": 800, "Q": 1250,
}  # fmt: skip

# AQL -> letter -> (n, Ac, Re) after following the arrows of Table II-A
_PLANS: dict[float, dict[str, tuple[int, int, int]]] = {
    0.65: {
        "A": (20, 0, 1), "B": (20, 0, 1), "C": (20, 0, 1), "D": (20, 0, 1), "E": (20, 0, 1),
        "F": (20, 0, 1), "G": (20, 0, 1), "H": (80, 1, 2), "J": (80, 1, 2), "K": (125, 2, 3),
        "L": (200, 3, 4), "M": (315, 5, 6), "N": (500, 7, 8), "P": (800, 10, 11),
        "Q": (1250, 14, 15),
    },
    1.0: {
        "A": (13, 0, 1), "B": (13, 0, 1), "C": (13, 0, 1), "D": (13, 0, 1), "E": (13, 0, 1),
        "F": (13, 0, 1), "G": (50, 1, 2), "H": (50, 1, 2), "J": (80, 2, 3), "K": (125, 3, 4),
        "L": (200, 5, 6), "M": (315, 7, 8), "N": (500, 10, 11), "P": (800, 14, 15),
        "Q": (1250, 21, 22),
    },
    2.5: {
        "A": (5, 0, 1), "B": (5, 0, 1), "C": (5, 0, 1), "D": (5, 0, 1), "E": (20, 1, 2),
        "F": (20, 1, 2), "G": (32, 2, 3), "H": (50, 3, 4), "J": (80, 5, 6), "K": (125, 7, 8),
        "L": (200, 10, 11), "M": (315, 14, 15), "N": (500, 21, 22), "P": (500, 21, 22),
        "Q": (500, 21, 22),
    },
    4.0: {
        "A": (3, 0, 1), "B": (3, 0, 1), "C": (3, 0, 1), "D": (13, 1, 2), "E": (13, 1, 2),
        "F": (20, 2, 3), "G": (32, 3, 4), "H": (50, 5, 6), "J": (80, 7, 8), "K": (125, 10, 11),
        "L": (200, 14, 15), "M": (315, 21, 22), "N": (315, 21, 22), "P": (315, 21, 22),
        "Q": (315, 21, 22),
    },
}  # fmt: skip
AQLS = tuple(sorted(_PLANS))
MAX_LOT = 10_000_000


@dataclass(frozen=True, slots=True)
class SamplingPlan:
    lot_size: int
    aql: float
    code_letter: str
    sample_size: int  # units to inspect (the whole lot when the plan's n reaches it)
    accept: int  # Ac: accept the lot with at most this many nonconforming units
    reject: int  # Re: reject it with this many or more
    full_inspection: bool  # the plan's sample is the lot or more: every unit is inspected

    def accepts(self, nonconforming: int) -> bool:
        if not 0 <= nonconforming <= self.sample_size:
            raise InvalidInput(
                "nonconforming", f"must be between 0 and the sample size {self.sample_size}"
            )
        return nonconforming <= self.accept


def code_letter(lot_size: int) -> str:
    """The sample size code letter of a lot, general inspection level II (Table I)."""
    if not 2 <= lot_size <= MAX_LOT:
        raise InvalidInput("lot_size", f"must be between 2 and {MAX_LOT:,}")
    for upper, letter in _LETTERS:
        if lot_size <= upper:
            return letter
    return "Q"


def single_normal(lot_size: int, aql: float) -> SamplingPlan:
    """The single sampling plan, normal inspection, level II, for a lot and an AQL (in
    percent nonconforming). A lot of one unit is inspected whole (accept 0)."""
    plans = _PLANS.get(float(aql))
    if plans is None:
        known = ", ".join(f"{a:g}" for a in AQLS)
        raise InvalidInput("aql", f"{aql!r} is not a sourced AQL; known: {known}")
    if lot_size == 1:
        return SamplingPlan(1, float(aql), "A", 1, 0, 1, True)
    letter = code_letter(lot_size)
    n, ac, re_ = plans[letter]
    if n >= lot_size:
        return SamplingPlan(lot_size, float(aql), letter, lot_size, ac, re_, True)
    return SamplingPlan(lot_size, float(aql), letter, n, ac, re_, False)
