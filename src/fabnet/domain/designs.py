"""Designs: a mesh or manifest, its file stored once by content hash.

Each party that registers a file gets its own design record (its name, materials,
owner); records of the same bytes share the one stored file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from fabnet.domain.aggregate import Aggregate
from fabnet.domain.capabilities import Process
from fabnet.domain.errors import InvalidInput
from fabnet.domain.events import DesignRegistered, DesignReviewed
from fabnet.domain.ids import DesignId, PrincipalId
from fabnet.domain.states import ReviewStatus
from fabnet.domain.units import Box


def content_hash(data: bytes) -> str:
    """The SHA-256 of a design's bytes: the key of the one stored copy of the file."""
    return hashlib.sha256(data).hexdigest()


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
    print_time_s: float  # one unit on the reference machine: the estimate, or an override
    owner_id: PrincipalId
    created_at: datetime
    content_hash: str = ""  # SHA-256 of the file; "" only in records older than it (= id)
    public: bool = False  # in everyone's catalogue (the operator's designs are)
    filament_mm3: float = 0.0  # filament of one unit by the fast estimate (0: not estimated)
    estimated_print_time_s: float = 0.0  # the fast estimate's time on the reference machine
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def review_status(self) -> ReviewStatus:
        try:
            return ReviewStatus(self.extra.get("review_status", ReviewStatus.NOT_REVIEWED))
        except ValueError:
            return ReviewStatus.NOT_REVIEWED

    def review(self, status: ReviewStatus, reviewer: str, notes: str, at: datetime) -> None:
        """A reviewer's verdict: kept with the design and logged as an event."""
        self.extra = {
            **self.extra,
            "review_status": status.value,
            "reviewed_by": reviewer,
            "reviewed_at": at.isoformat(),
            "review_notes": notes,
        }
        self.events.append(
            DesignReviewed(
                at=at, design_id=self.id, status=status.value, reviewer=reviewer, notes=notes
            )
        )

    def unit_mass_g(self, density_g_cm3: float) -> float:
        return self.filament_mm3 / 1000 * density_g_cm3

    @property
    def blob_key(self) -> str:
        return self.content_hash or self.id

    def visible_to(self, principal_id: str, *, operator: bool) -> bool:
        return operator or self.public or self.owner_id == principal_id

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
