"""/designs: upload (multipart, size-capped while reading), list, read, download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from fabnet.bootstrap import App
from fabnet.domain.errors import InvalidInput, PayloadTooLarge
from fabnet.entrypoints.api.deps import Bus, Caller, Heavy, Paging, Uow, get_app
from fabnet.entrypoints.api.schemas.common import PageOut, paged
from fabnet.entrypoints.api.schemas.orders import DesignOut
from fabnet.services import commands as cmd
from fabnet.services import views

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
    print_time_s: Annotated[float, Form(gt=0, description="one unit, reference machine")] = 4800,
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


@router.get("/designs/{design_id}/file")
def download_design(
    design_id: str, uow: Uow, caller: Caller, app: Annotated[App, Depends(get_app)]
) -> Response:
    design = views.get_design(uow, caller, design_id)
    return Response(
        app.blobs.get(design.id),
        media_type=design.media_type,
        headers={"Content-Disposition": f'attachment; filename="{design.id[:16]}.stl"'},
    )
