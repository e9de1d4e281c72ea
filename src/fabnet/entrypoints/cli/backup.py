"""``fabnet backup`` and ``fabnet restore``: the store, the design files and the hub's
keys in one folder, and a restored hub checked against its transparency log."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from fabnet.entrypoints.cli.common import emit_json, err, fail, out, wired

MANIFEST = "fabnet-backup.json"
KEYS = ("log.key", "links.key")


def backup(
    folder: Annotated[Path, typer.Argument(help="a new, empty folder for the backup")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Copy the store (SQLite online backup, or pg_dump), the design files and the hub's
    keys (mode 600) while the hub runs, with a manifest of the log's state."""
    from fabnet.adapters.db.backup import back_up, kind_of

    if folder.exists() and any(folder.iterdir()):
        raise fail(f"{folder}: not empty; a backup goes into a new folder", 73)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise fail(f"{folder}: {exc.strerror}", 73) from None
    with wired() as app:
        ledger = app.ledger()
        ledger.sequence()
        note = ledger.latest_checkpoint()  # the log as of the copy (it may grow during it)
        url = app.settings.resolved_database_url()
        store_file = back_up(url, folder)
        data_dir = app.settings.data_dir
        designs = data_dir / "designs"
        if designs.exists():
            shutil.copytree(designs, folder / "designs")
        for name in KEYS:
            if (data_dir / name).exists():
                shutil.copy2(data_dir / name, folder / name)
                os.chmod(folder / name, 0o600)
        manifest = {
            "format": "fabnet-backup/1",
            "created_at": datetime.now(UTC).isoformat(),
            "store": kind_of(url),
            "file": store_file.name,
            "log_vkey": str(ledger.signer.verifier),
            "checkpoint": note,
        }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    if as_json:
        emit_json({k: v for k, v in manifest.items() if k != "checkpoint"})
    else:
        out.print(f"backup of the {manifest['store']} store written to {folder}", highlight=False)


def restore(
    folder: Annotated[Path, typer.Argument(help="a folder made by `fabnet backup`")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Restore a backup into the configured (empty) store and data directory, then check
    the restored store against the transparency log: the stored leaves give the root of
    the backup's signed checkpoint, every event of it is in the log once. Exit 0 only
    when the check passes."""
    from fabnet.adapters.db import create_engine_for
    from fabnet.adapters.db.backup import restore as load
    from fabnet.config import Settings

    manifest_file = folder / MANIFEST
    if not manifest_file.is_file():
        raise fail(f"{folder}: no {MANIFEST}; not a fabnet backup", 66)
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise fail(f"{manifest_file}: unreadable ({exc})", 65) from None
    settings = Settings()
    data_dir = settings.data_dir
    for name in KEYS:
        if (folder / name).exists() and (data_dir / name).exists():
            raise fail(f"{data_dir / name} exists: restore into a fresh data directory", 73)
    with wired() as app:  # migrates the (empty) target store
        url = app.settings.resolved_database_url()
    from fabnet.adapters.db.backup import kind_of

    if kind_of(url) != manifest.get("store"):
        raise fail(
            f"the backup is of a {manifest.get('store')} store, the target {kind_of(url)}", 65
        )
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name in KEYS:
        if (folder / name).exists():
            shutil.copy2(folder / name, data_dir / name)
            os.chmod(data_dir / name, 0o600)
    if (folder / "designs").exists():
        shutil.copytree(folder / "designs", data_dir / "designs", dirs_exist_ok=True)
    engine = create_engine_for(url)
    try:
        load(url, folder, engine)
    finally:
        engine.dispose()
    report = check_restored(settings, manifest)
    if as_json:
        emit_json(report)
    else:
        for problem in report["problems"]:
            err.print(f"problem: {problem}", highlight=False, soft_wrap=True)
        out.print(
            f"restored {report['events']} events, log of {report['log_size']} leaves: "
            + ("OK" if report["ok"] else "NOT OK"),
            highlight=False,
        )
    if not report["ok"]:
        raise typer.Exit(1)


def check_restored(settings: Any, manifest: dict[str, Any]) -> dict[str, Any]:
    from fabnet.bootstrap import bootstrap
    from fabnet.ledger.checkpoints import Checkpoint
    from fabnet.ledger.notes import NoteError, Verifier, open_note

    problems: list[str] = []
    app = bootstrap(settings)
    try:
        ledger = app.ledger()
        tree = ledger.load()
        with app.new_uow() as uow:
            events = uow.last_event_seq()
        try:
            verifier = Verifier.parse(manifest["log_vkey"])
            opened, _ = open_note(manifest["checkpoint"], [verifier])
            checkpoint = Checkpoint.parse(opened.text)
            if checkpoint.size > tree.size:
                problems.append(
                    f"the backup's checkpoint covers {checkpoint.size} leaves, "
                    f"the restored log holds {tree.size}"
                )
            elif tree.root(checkpoint.size) != checkpoint.root:
                problems.append("the restored leaves do not give the backup checkpoint's root")
        except (KeyError, NoteError, ValueError) as exc:
            problems.append(f"the backup's checkpoint does not verify: {exc}")
        if str(ledger.signer.verifier) != manifest.get("log_vkey"):
            problems.append("the restored log key is not the backup's")
        if ledger.duplicates():
            problems.append("the restored log holds events more than once")
        unlogged = events - ledger.store.last_event_seq()
        return {
            "events": events,
            "log_size": tree.size,
            "events_not_yet_logged": unlogged,  # written after the checkpoint: logged next
            "problems": problems,
            "ok": not problems,
        }
    finally:
        app.close()
