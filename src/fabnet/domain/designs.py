"""Designs: a mesh or manifest registered by its content hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from fabnet.domain.aggregate import Aggregate
from fabnet.domain.capabilities import Process
from fabnet.domain.errors import InvalidInput
from fabnet.domain.events import DesignRegistered
from fabnet.domain.ids import DesignId, PrincipalId
from fabnet.domain.units import Box


def content_id(data: bytes) -> DesignId:
    return DesignId(hashlib.sha256(data).hexdigest())


@dataclass(kw_only=True)
class Design(Aggregate):
    id: DesignId
    name: str
    filename: str
    media_type: str
    size_bytes: int
    process: Process
    materials: tuple[str, ...]  # materials the design may be made in
    bbox: Box
    triangles: int
    print_time_s: float  # reference estimate for one unit on a reference machine
    owner_id: PrincipalId
    created_at: datetime
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInput("name", "must not be empty")
        if not self.materials:
            raise InvalidInput("materials", "must name at least one material")
        if not self.print_time_s > 0:
            raise InvalidInput("print_time_s", "must be > 0 seconds")

    def registered(self) -> Design:
        """Mark a newly built design as registered (raises its event); returns it."""
        self.events.append(DesignRegistered(at=self.created_at, design_id=self.id, name=self.name))
        return self
