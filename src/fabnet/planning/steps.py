"""Seconds by step of one solve: in the plan's stats (``<step>_s``, the plan file's
``steps_s``) and, as each step ends, on the ``fabnet.planning`` log at INFO (``fabnet plan
solve --progress``), so a long solve says where it is and where its time went."""

from __future__ import annotations

import logging
import time

log = logging.getLogger("fabnet.planning")

# in the order a whole plan runs them (one the solver has no part for is absent; one it
# passed over, such as a knapsack bound not sought, shows about 0 s)
STEPS = ("greedy", "model", "lp", "rounding", "bound", "neighbourhoods", "assignments")


class Steps:
    """A stopwatch that charges the time since the last mark to the step just ended."""

    def __init__(self, *, quiet: bool = False) -> None:
        """``quiet``: the steps are timed, not said (the fixed-charge search's candidate
        plans, which say themselves in one line each)."""
        self.seconds: dict[str, float] = {}
        self.quiet = quiet
        self._mark = time.perf_counter()

    def done(self, step: str, detail: str = "") -> None:
        now = time.perf_counter()
        spent = now - self._mark
        self._mark = now
        self.seconds[step] = self.seconds.get(step, 0.0) + spent
        if not self.quiet:
            log.info("%s: %.1f s%s", step, spent, f"; {detail}" if detail else "")

    def stats(self) -> dict[str, float]:
        return {f"{step}_s": round(s, 3) for step, s in self.seconds.items()}
