"""``fabnet keys``: API keys (create, list, revoke) and signed-note key pairs (note)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fabnet.domain.ids import ApiKeyId
from fabnet.domain.states import Role
from fabnet.entrypoints.cli.common import CLI_OPERATOR, cmd, emit_json, fail, out, wired

keys = typer.Typer(
    rich_markup_mode=None, help="API keys (the secret is printed once; only its hash is stored)."
)


@keys.command("note")
def keys_note(
    name: Annotated[str, typer.Argument(help="key name, e.g. hub.example/log")],
    cosigner: Annotated[bool, typer.Option(help="a witness cosignature key (type 0x04)")] = False,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="write the private key here")
    ] = None,
) -> None:
    """Make an Ed25519 signed-note key pair: prints the verifier key; the private key
    goes to --out (mode 600) or to stdout."""
    import os

    from fabnet.ledger.notes import COSIGNATURE_V1, ED25519, NoteError, Signer

    try:
        signer = Signer.generate(name, COSIGNATURE_V1 if cosigner else ED25519)
    except NoteError as exc:
        raise fail(str(exc), 65) from None
    if out_file is not None:
        try:
            fd = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise fail(f"{out_file} exists; a key file is never overwritten", 73) from None
        except OSError as exc:
            raise fail(f"{out_file}: {exc.strerror}", 73) from None
        with os.fdopen(fd, "w") as handle:
            handle.write(str(signer) + "\n")
    else:
        out.print(str(signer), soft_wrap=True, highlight=False)
    out.print(str(signer.verifier), soft_wrap=True, highlight=False)


@keys.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="operator, consumer, producer or courier")],
    name: Annotated[str, typer.Option(help="who it is for")],
    producer_id: Annotated[str | None, typer.Option(help="for a producer key")] = None,
    courier_id: Annotated[str | None, typer.Option(help="for a courier key")] = None,
    expires_in_days: Annotated[
        float | None, typer.Option(min=0.001, max=3650, help="the key expires after this")
    ] = None,
    read_only: Annotated[bool, typer.Option("--read-only", help="scope 'read': GET only")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create an API key and print its secret (once)."""
    from datetime import timedelta

    with wired() as wired_app:
        expires = (
            wired_app.clock.now() + timedelta(days=expires_in_days) if expires_in_days else None
        )
        key = wired_app.bus().handle(
            cmd.CreateApiKey(
                name,
                role,
                producer_id,
                principal_id=courier_id,
                expires_at=expires,
                scopes=("read",) if read_only else ("read", "write"),
            )
        )
    if as_json:
        emit_json({"id": key.key_id, "principal_id": key.principal_id, "secret": key.secret})
    else:
        out.print(
            f"key {key.key_id} for {key.principal_id} ({role.value}): {key.secret}",
            soft_wrap=True,
            highlight=False,
        )


@keys.command("list")
def keys_list(
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Every key (never its secret): who, role, scopes, expiry, revoked."""
    from fabnet.entrypoints.api.routers.keys import KeyInfo
    from fabnet.entrypoints.cli.common import show_items
    from fabnet.services.access import list_api_keys
    from fabnet.services.ports import Page

    with wired() as wired_app:
        found = list_api_keys(wired_app.new_uow(), CLI_OPERATOR, Page(limit, offset))
    columns = ["id", "name", "role", "scopes", "expires_at", "revoked_at"]
    show_items([KeyInfo.of(k) for k in found.items], columns, as_json=as_json, total=found.total)


@keys.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke a key: it stops working at once (on other replicas within
    FABNET_AUTH_CACHE_S)."""
    with wired() as wired_app:
        wired_app.bus().handle(cmd.RevokeApiKey(CLI_OPERATOR, ApiKeyId(key_id)))
    out.print(f"key {key_id} revoked")
