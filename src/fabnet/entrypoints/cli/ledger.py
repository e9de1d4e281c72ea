"""``fabnet ledger``: the hub's own view of its transparency log."""

from __future__ import annotations

from typing import Annotated

import typer

from fabnet.entrypoints.cli.common import emit_json, out, wired

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
