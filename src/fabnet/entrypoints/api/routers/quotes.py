"""/quotes: an instant quote from an uploaded mesh or a registered design. Stores nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile

from fabnet.bootstrap import App
from fabnet.domain.errors import InvalidInput, PayloadTooLarge
from fabnet.domain.ids import DesignId
from fabnet.entrypoints.api.deps import Bus, Caller, Heavy, get_app
from fabnet.entrypoints.api.routers.designs import read_capped
from fabnet.entrypoints.api.schemas.quotes import QuoteOut
from fabnet.services import commands as cmd
from fabnet.services.quotes import MAX_QUANTITY

router = APIRouter(tags=["quotes"])


@router.post("/quotes", response_model=QuoteOut)
async def request_quote(
    request: Request,
    bus: Bus,
    caller: Caller,
    heavy: Heavy,
    app: Annotated[App, Depends(get_app)],
    file: Annotated[UploadFile | None, File(description="STL, OBJ or 3MF")] = None,
    design_id: Annotated[str, Form(max_length=64)] = "",
    material: Annotated[str, Form(max_length=40)] = "PLA",
    quantity: Annotated[int, Form(ge=1, le=MAX_QUANTITY)] = 1,
    exact: Annotated[bool, Form(description="also slice with PrusaSlicer")] = False,
) -> QuoteOut:
    limit = app.policy.max_design_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise PayloadTooLarge("file", limit)
    data, filename = b"", ""
    if file is not None:
        data = await read_capped(file, limit)
        filename = file.filename or ""
        if not filename:
            raise InvalidInput("file", "the upload needs a file name")
    command = cmd.RequestQuote(
        actor=caller,
        filename=filename,
        data=data,
        design_id=DesignId(design_id.strip()) if design_id.strip() else None,
        material=material,
        quantity=quantity,
        exact=exact,
    )
    quote = await heavy.run(caller.id, bus.handle, command)  # analysis, estimate, slicer
    return QuoteOut.of(quote)
