"""``fabnet ledger``: the hub's own view of its transparency log; ``fabnet witness``: a
witness for other logs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fabnet.entrypoints.cli.common import emit_json, err, fail, out, wired

ledger = typer.Typer(
    rich_markup_mode=None, help="The hub's transparency log.", no_args_is_help=True
)


@ledger.command("check")
def check(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Sequence what is pending, then check the stored log: the tree over the stored
    leaves matches the latest checkpoint, and no event is in it twice. Exit 0 when sound,
    1 when not."""
    from fabnet.ledger.checkpoints import Checkpoint
    from fabnet.ledger.notes import open_note

    with wired() as app:
        log = app.ledger()
        appended = log.sequence()
        tree = log.load()
        note = log.store.latest_checkpoint()
        problems: list[str] = []
        if note is not None:
            checkpoint = Checkpoint.parse(open_note(note, [log.signer.verifier])[0].text)
            if checkpoint.size > tree.size:
                problems.append(
                    f"the latest checkpoint covers {checkpoint.size} leaves, the store "
                    f"holds {tree.size}"
                )
            elif tree.root(checkpoint.size) != checkpoint.root:
                problems.append(
                    f"the stored leaves do not give checkpoint {checkpoint.size}'s root"
                )
        duplicates = log.duplicates()
        if duplicates:
            problems.append(
                f"{len(duplicates)} event(s) appear more than once, e.g. event "
                f"{duplicates[0][0]} at leaves {duplicates[0][1]} (see docs/ledger.md)"
            )
    report = {
        "size": tree.size,
        "appended": appended,
        "duplicate_events": [{"seq": s, "leaves": where} for s, where in duplicates],
        "problems": problems,
        "ok": not problems,
    }
    if as_json:
        emit_json(report)
    else:
        out.print(f"log size {tree.size} ({appended} appended now)")
        for problem in problems:
            out.print(f"problem: {problem}", highlight=False)
        out.print("OK" if not problems else "NOT OK")
    if problems:
        raise typer.Exit(1)


def witness(
    key_file: Annotated[Path, typer.Option("--key", help="file with the witness private key")],
    log_key: Annotated[list[str], typer.Option("--log-key", help="a log's verifier key")],
    db: Annotated[Path, typer.Option(help="SQLite file for the witness state")] = Path(
        "witness.sqlite"
    ),
    host: str = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535)] = 8090,
) -> None:
    """Serve the C2SP tlog-witness protocol (POST /add-checkpoint) for the given logs."""
    import time

    import uvicorn

    from fabnet.adapters.db import create_engine_for
    from fabnet.adapters.db.witness_state import SqlWitnessState
    from fabnet.entrypoints.witness import create_witness_app
    from fabnet.ledger.notes import NoteError, Signer, Verifier
    from fabnet.ledger.witness import Witness

    if not key_file.is_file():
        raise fail(f"{key_file}: no such file", 66)
    try:
        signer = Signer.parse(key_file.read_text(encoding="utf-8"))
        logs: dict[str, list[Verifier]] = {}
        for text in log_key:
            verifier = Verifier.parse(text)
            logs.setdefault(verifier.name, []).append(verifier)
        state = SqlWitnessState(create_engine_for(f"sqlite:///{db}"))
        wit = Witness(signer, logs, state)
    except NoteError as exc:
        raise fail(str(exc), 65) from None
    err.print(f"witness {signer.verifier} for {', '.join(logs)}", soft_wrap=True)
    uvicorn.run(create_witness_app(wit, lambda: int(time.time())), host=host, port=port)
