"""``fabnet witness``: the tlog-witness HTTP endpoint around ledger.witness.Witness."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response

from fabnet.ledger.witness import Witness

MAX_BODY = 64 * 1024


def create_witness_app(witness: Witness, now: Callable[[], int]) -> FastAPI:
    api = FastAPI(title="fabnet witness", docs_url=None, redoc_url=None)

    @api.post("/add-checkpoint")
    async def add_checkpoint(request: Request) -> Response:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return PlainTextResponse("request too large\n", status_code=413)
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return PlainTextResponse("the request is not UTF-8\n", status_code=400)
        reply = witness.add_checkpoint(body, now())
        return Response(  # set by hand: Starlette would add "; charset" to text/ types
            reply.body.encode(),
            status_code=reply.status,
            headers={"content-type": reply.content_type},
        )

    return api
