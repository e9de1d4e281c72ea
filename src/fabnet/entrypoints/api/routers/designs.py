"""/designs: upload (multipart, size-capped while reading), list, read, download."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from fabnet.bootstrap import App
from fabnet.domain.designs import Design
from fabnet.domain.errors import InvalidInput, NotFound, PayloadTooLarge
from fabnet.domain.ids import DesignId, JobId
from fabnet.domain.states import ReviewStatus
from fabnet.entrypoints.api.deps import Bus, Caller, Heavy, Paging, Uow, get_app
from fabnet.entrypoints.api.schemas.common import PageOut, Strict, paged
from fabnet.entrypoints.api.schemas.orders import DesignOut
from fabnet.services import commands as cmd
from fabnet.services import views
from fabnet.services.design_access import design_link, fetch_by_link

router = APIRouter(tags=["designs"])
CHUNK = 1 << 20


async def read_capped(upload: UploadFile, limit: int) -> bytes:
    data = bytearray()
    while chunk := await upload.read(CHUNK):
        data += chunk
        if len(data) > limit:
            raise PayloadTooLarge("file", limit)
    return bytes(data)


@router.post("/designs", status_code=201, response_model=DesignOut)
async def upload_design(
    request: Request,
    bus: Bus,
    uow: Uow,
    caller: Caller,
    heavy: Heavy,
    app: Annotated[App, Depends(get_app)],
    file: Annotated[UploadFile, File(description="the mesh (binary or ASCII STL)")],
    process: Annotated[str, Form(max_length=40)] = "fdm",
    materials: Annotated[str, Form(max_length=400, description="comma-separated")] = "PLA",
    print_time_s: Annotated[
        float | None,
        Form(gt=0, description="one unit on the reference machine; default: the estimate"),
    ] = None,
    name: Annotated[str, Form(max_length=200)] = "",
) -> DesignOut:
    limit = app.policy.max_design_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise PayloadTooLarge("file", limit)
    data = await read_capped(file, limit)
    if not file.filename:
        raise InvalidInput("file", "the upload needs a file name")
    command = cmd.RegisterDesign(
        actor=caller,
        filename=file.filename,
        data=data,
        name=name,
        process=process,
        materials=tuple(m for m in (s.strip() for s in materials.split(",")) if m),
        print_time_s=print_time_s,
    )
    design_id = await heavy.run(caller.id, bus.handle, command)  # mesh analysis
    return DesignOut.of(await run_in_threadpool(views.get_design, uow, caller, design_id))


@router.get("/designs", response_model=PageOut[DesignOut])
def list_designs(uow: Uow, caller: Caller, page: Paging) -> PageOut[DesignOut]:
    found = views.list_designs(uow, caller, page)
    return paged(found, DesignOut.of)


@router.get("/designs/{design_id}", response_model=DesignOut)
def get_design(design_id: str, uow: Uow, caller: Caller) -> DesignOut:
    return DesignOut.of(views.get_design(uow, caller, design_id))


class LinkOut(BaseModel):
    url: str
    expires_at: datetime


class ReviewIn(Strict):
    status: ReviewStatus = Field(strict=False)
    notes: str = Field(default="", max_length=2000)


@router.post("/designs/{design_id}/review", response_model=DesignOut)
def review_design(
    design_id: DesignId, body: ReviewIn, bus: Bus, uow: Uow, caller: Caller
) -> DesignOut:
    """A reviewer's verdict (not_reviewed, community_use, clinical_use), logged; lines that
    require a review are planned once their design has it."""
    bus.handle(cmd.ReviewDesign(caller, design_id, body.status, body.notes))
    return DesignOut.of(views.get_design(uow, caller, design_id))


@router.get("/designs/{design_id}/file")
def download_design(
    design_id: str, uow: Uow, caller: Caller, app: Annotated[App, Depends(get_app)]
) -> Response:
    """The file, for its owner and operators; a producer fetches it for a live job
    through POST /jobs/{job_id}/design-link."""
    design = views.get_design(uow, caller, design_id)
    if not (caller.is_operator or design.owner_id == caller.id):
        raise NotFound("design file", design_id)
    return _file(design, app.blobs.get(design.blob_key))


@router.post("/jobs/{job_id}/design-link", tags=["jobs"], response_model=LinkOut)
def job_design_link(
    job_id: JobId, uow: Uow, caller: Caller, app: Annotated[App, Depends(get_app)]
) -> LinkOut:
    """A link to the job's design file, valid for minutes and only while the job is
    live; every download is logged with the order."""
    link = design_link(uow, caller, job_id, signer=app.links(), clock=app.clock)
    return LinkOut(url=link.path, expires_at=link.expires_at)


@router.get("/files/{token}", tags=["jobs"])
def fetch_file(token: str, uow: Uow, app: Annotated[App, Depends(get_app)]) -> Response:
    """A signed link's file (no key needed: the link is the capability)."""
    design, data = fetch_by_link(
        token[:2048], uow=uow, signer=app.links(), blobs=app.blobs, clock=app.clock
    )
    return _file(design, data)


def _file(design: Design, data: bytes) -> Response:
    name = re.sub(r"[^A-Za-z0-9._-]", "_", design.filename)[-120:] or "design"
    return Response(
        data,
        media_type=design.media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
