"""What the hub believes of a producer's or machine's reliability: a Beta posterior over
the chance that a job succeeds (made, on time, passed inspection), learned from outcomes.

Each outcome adds one to the successes or the failures; before it does, both counts are
discounted by half every ``half_life_days`` since the last outcome (forgetting: a maker
who improved is not held to last year's failures). A new maker starts from the prior,
Beta(prior_successes, prior_failures). The defaults (Beta(1, 1), Laplace's uniform prior,
and a half-life of 180 days) are operator settings, not sourced figures.

Plain Python: the credible interval comes from the regularized incomplete beta function
by its continued fraction (Numerical Recipes' betacf, after Lentz), inverted by bisection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from fabnet.domain.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class ReliabilityPrior:
    successes: float = 1.0
    failures: float = 1.0
    half_life_days: float = 180.0

    def __post_init__(self) -> None:
        for name in ("successes", "failures", "half_life_days"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InvalidInput(f"reliability.{name}", "must be a number > 0")


@dataclass(frozen=True, slots=True)
class Belief:
    """Discounted outcome counts (not including the prior) and when they were last moved."""

    successes: float = 0.0
    failures: float = 0.0
    at: datetime | None = None

    def decayed(self, now: datetime, prior: ReliabilityPrior) -> Belief:
        if self.at is None or now <= self.at:
            return Belief(self.successes, self.failures, self.at if self.at else now)
        days = (now - self.at).total_seconds() / 86400
        keep = 0.5 ** (days / prior.half_life_days)
        return Belief(self.successes * keep, self.failures * keep, now)

    def observe(self, succeeded: bool, at: datetime, prior: ReliabilityPrior) -> Belief:
        base = self.decayed(at, prior)
        if succeeded:
            return Belief(base.successes + 1, base.failures, base.at)
        return Belief(base.successes, base.failures + 1, base.at)

    def posterior(self, prior: ReliabilityPrior, now: datetime | None = None) -> Posterior:
        base = self.decayed(now, prior) if now is not None else self
        return Posterior(prior.successes + base.successes, prior.failures + base.failures)


@dataclass(frozen=True, slots=True)
class Probation:
    """A machine whose test coupon passed starts on probation, as marketplaces put new
    suppliers on it: the planner gives it at most ``units_per_job`` units of a line (on
    time only) until it has done ``jobs`` jobs in a row without a failure and the hub's
    posterior mean of its reliability is at least ``graduate_at``; a failure starts the
    count again. ``left`` counts the jobs still to do. The defaults are placeholders for
    an operator to set (FABNET_PROBATION), not sourced figures; ``jobs`` 0 turns it off.
    A machine keeps the terms it was put on probation with."""

    jobs: int = 5
    units_per_job: int = 10
    graduate_at: float = 0.8
    left: int = -1  # -1: not started (``jobs``)

    def __post_init__(self) -> None:
        if not _whole(self.jobs, 0, 1000):
            raise InvalidInput("probation.jobs", "a whole number of jobs in 0..1000")
        if not _whole(self.units_per_job, 1, 1_000_000):
            raise InvalidInput("probation.units_per_job", "a whole number of units >= 1")
        if not _whole(self.left, -1, self.jobs):
            raise InvalidInput("probation.left", f"a whole number of jobs in -1..{self.jobs}")
        if not (
            isinstance(self.graduate_at, int | float)
            and math.isfinite(self.graduate_at)
            and 0 <= self.graduate_at < 1
        ):
            raise InvalidInput("probation.graduate_at", "a reliability in [0, 1)")

    def start(self) -> Probation | None:
        """The state of a machine put on probation now (None: probation is off)."""
        if self.jobs == 0:
            return None
        return Probation(self.jobs, self.units_per_job, self.graduate_at, self.jobs)

    def after(self, succeeded: bool, reliability: float) -> Probation | None:
        """The state after one more outcome; None when the machine graduates."""
        if not succeeded:
            return Probation(self.jobs, self.units_per_job, self.graduate_at, self.jobs)
        left = max(0, self.left - 1)
        if left == 0 and reliability >= self.graduate_at:
            return None
        return Probation(self.jobs, self.units_per_job, self.graduate_at, max(left, 1))


def _whole(value: object, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


@dataclass(frozen=True, slots=True)
class Posterior:
    a: float  # prior successes + discounted successes
    b: float

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)

    @property
    def evidence(self) -> float:
        """Outcomes behind it, discounted (the prior's pseudo-counts included)."""
        return self.a + self.b

    def quantile(self, q: float) -> float:
        if not 0 < q < 1:
            raise InvalidInput("q", "must be in (0, 1)")
        lo, hi = 0.0, 1.0
        for _ in range(60):  # bisection to 1e-18: the CDF is monotone
            mid = (lo + hi) / 2
            if regularized_beta(mid, self.a, self.b) < q:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    def interval(self, level: float = 0.9) -> tuple[float, float]:
        tail = (1 - level) / 2
        return self.quantile(tail), self.quantile(1 - tail)


def regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), the CDF of Beta(a, b) at x."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(x, a, b) / a
    return 1.0 - front * _betacf(1 - x, b, a) / b


def _betacf(x: float, a: float, b: float) -> float:
    tiny, eps = 1e-300, 3e-16
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1) < eps:
            break
    return h
