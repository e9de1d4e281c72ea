"""Designs: register a mesh by its content hash."""

from __future__ import annotations

import math

from fabnet.domain.capabilities import Process, parse_material, parse_process
from fabnet.domain.designs import Design, content_hash
from fabnet.domain.errors import Forbidden, InvalidInput, NotFound, PayloadTooLarge
from fabnet.domain.ids import PREFIXES, DesignId
from fabnet.domain.units import Box
from fabnet.fabrication.estimate import estimate
from fabnet.fabrication.profiles import REFERENCE
from fabnet.services.commands import RegisterDesign, ReviewDesign
from fabnet.services.ports import BlobStore, Clock, IdSource, MeshAnalyzer, Policy, UnitOfWork
from fabnet.services.quotes import reference_profile

MAX_PRINT_TIME_S = 30 * 86_400.0


def _section_mm2() -> float:
    return math.pi * (REFERENCE.filament_diameter_mm / 2) ** 2


def register_design(
    cmd: RegisterDesign,
    *,
    uow: UnitOfWork,
    clock: Clock,
    ids: IdSource,
    blobs: BlobStore,
    mesh: MeshAnalyzer,
    policy: Policy,
) -> DesignId:
    """Validate, analyse and store a design. Everything is checked before anything is
    written. The same bytes from the same owner give the same record; from another
    party they give that party's own record (its name, materials) over the one stored
    file. An operator's designs are public (everyone's catalogue)."""
    if len(cmd.data) > policy.max_design_bytes:
        raise PayloadTooLarge("file", policy.max_design_bytes)
    process = parse_process(cmd.process)
    materials = tuple(
        parse_material(m, process, f"materials[{i}]") for i, m in enumerate(cmd.materials)
    )
    if not materials:
        raise InvalidInput("materials", "name at least one material")
    if cmd.print_time_s is not None and not 0 < cmd.print_time_s <= MAX_PRINT_TIME_S:
        raise InvalidInput("print_time_s", f"must be in (0, {MAX_PRINT_TIME_S:.0f}] seconds")
    name = cmd.name.strip() or cmd.filename
    if len(name) > 200:
        raise InvalidInput("name", "at most 200 characters")
    digest = content_hash(cmd.data)
    with uow:
        same_bytes = uow.designs.with_content(digest)
        for known in same_bytes:
            if known.owner_id == cmd.actor.id:
                return known.id  # a retry, or the same file twice: one record
        info = mesh.analyse(cmd.filename, cmd.data)  # every upload is checked afresh
        est = (
            estimate(info, reference_profile(info, materials[0]))
            if process is Process.FDM
            else None
        )
        design = Design(
            id=DesignId(ids.new(PREFIXES["design"])),
            name=name,
            filename=cmd.filename[-255:],
            media_type=info.media_type,
            size_bytes=len(cmd.data),
            process=process,
            materials=materials,
            bbox=Box(*info.bbox_mm),
            triangles=info.triangles,
            print_time_s=cmd.print_time_s or (est.print_time_s if est else 3600.0),
            owner_id=cmd.actor.id,
            created_at=clock.now(),
            content_hash=digest,
            public=cmd.actor.is_operator,
            filament_mm3=est.filament_mm * _section_mm2() if est else 0.0,
            estimated_print_time_s=est.print_time_s if est else 0.0,
            extra={k[:60]: str(v)[:500] for k, v in list(cmd.extra.items())[:20]},
        )
        if not blobs.exists(digest):
            blobs.put(digest, cmd.data)  # content-addressed: a retry rewrites the same file
        uow.designs.add(design.registered())
        uow.commit()
    return design.id


MAX_REVIEW_NOTES = 2000


def review_design(cmd: ReviewDesign, *, uow: UnitOfWork, clock: Clock) -> DesignId:
    """Only an operator (the hub's reviewers) sets a design's review status; every
    verdict is an event of the design, so it is in the log."""
    if not cmd.actor.is_operator:
        raise Forbidden("only a reviewer (an operator) sets a design's review status")
    if len(cmd.notes) > MAX_REVIEW_NOTES:
        raise InvalidInput("notes", f"at most {MAX_REVIEW_NOTES} characters")
    with uow:
        design = uow.designs.find(cmd.design_id)
        if design is None:
            raise NotFound("design", cmd.design_id)
        design.review(cmd.status, cmd.actor.id, cmd.notes.strip(), clock.now())
        uow.commit()
    return design.id
