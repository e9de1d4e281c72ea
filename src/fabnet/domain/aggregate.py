"""What every aggregate shares: an optimistic-concurrency version and pending events."""

from __future__ import annotations

from dataclasses import dataclass, field

from fabnet.domain.events import Event


@dataclass(kw_only=True)
class Aggregate:
    version: int = 0  # bumped by the store on every write; 0 = never stored
    events: list[Event] = field(default_factory=list, repr=False, compare=False)
