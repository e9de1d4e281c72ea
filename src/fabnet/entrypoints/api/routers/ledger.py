"""/ledger: the log's latest cosigned checkpoint, and a new one on demand (operator)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse

from fabnet.bootstrap import App
from fabnet.domain.errors import Forbidden
from fabnet.entrypoints.api.deps import Caller, get_app

router = APIRouter(tags=["ledger"])


@router.get("/ledger/checkpoint", response_class=PlainTextResponse)
def latest_checkpoint(app: Annotated[App, Depends(get_app)], caller: Caller) -> str:
    """The newest signed (and cosigned) checkpoint note covering the whole log."""
    ledger = app.ledger()
    ledger.sequence()
    return ledger.latest_checkpoint()


@router.post("/ledger/checkpoint", response_class=PlainTextResponse)
def new_checkpoint(app: Annotated[App, Depends(get_app)], caller: Caller) -> str:
    if not caller.is_operator:
        raise Forbidden("only an operator asks for a checkpoint by hand")
    ledger = app.ledger()
    ledger.sequence()
    return ledger.checkpoint()


@router.get("/ledger/key", response_class=PlainTextResponse)
def log_key(app: Annotated[App, Depends(get_app)]) -> str:
    """The log's verifier key (public)."""
    return str(app.ledger().signer.verifier) + "\n"
