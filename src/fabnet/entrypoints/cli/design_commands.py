"""``fabnet designs ...``: meshes stored by content hash, as the operator (heavy modules
load inside the command that needs them)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fabnet.domain.errors import FabnetError
from fabnet.domain.ids import DesignId
from fabnet.domain.states import ReviewStatus
from fabnet.entrypoints.cli.common import (
    CLI_OPERATOR,
    Json,
    Limit,
    Offset,
    cmd,
    emit_json,
    err,
    out,
    show_items,
    show_one,
    wired,
)
from fabnet.services.paging import MAX_PAGE, Page

designs = typer.Typer(rich_markup_mode=None, help="Designs (meshes), stored by content hash.")


@designs.command("add")
def designs_add(
    file: Path,
    material: Annotated[list[str], typer.Option(help="repeat for several")] = ["PLA"],  # noqa: B006
    process: Annotated[str, typer.Option()] = "fdm",
    print_time_s: Annotated[
        float | None, typer.Option(min=1, help="one unit, reference machine; default: estimate")
    ] = None,
    name: Annotated[str, typer.Option()] = "",
    as_json: Json = False,
) -> None:
    from fabnet.config import Settings
    from fabnet.entrypoints.api.schemas.orders import DesignOut
    from fabnet.entrypoints.cli import files
    from fabnet.services import views

    data = files.read_bytes(file, Settings().max_design_bytes)
    with wired() as app:
        design_id = app.bus().handle(
            cmd.RegisterDesign(
                CLI_OPERATOR,
                file.name,
                data,
                name or file.stem,
                process,
                tuple(material),
                print_time_s,
            )
        )
        show_one(
            DesignOut.of(views.get_design(app.new_uow(), CLI_OPERATOR, design_id)), as_json=as_json
        )


@designs.command("import")
def designs_import(
    manifest: Annotated[Path, typer.Argument(help="OKH-LOSH manifest (.toml) or OKH JSON")],
    as_json: Json = False,
) -> None:
    """Register the parts of an Open Know-How manifest as designs, with their licence and
    source. Mesh files are read from beside the manifest; nothing is fetched. Importing
    the same manifest again changes nothing."""
    from fabnet.adapters.okh import read_manifest
    from fabnet.config import Settings
    from fabnet.entrypoints.cli import files

    limit = Settings().max_design_bytes
    done: list[dict[str, str]] = []
    with wired() as app:
        found = read_manifest(manifest)
        failed: list[dict[str, str]] = [{"part": w, "reason": r} for w, r in found.skipped]
        for part in found.parts:
            try:
                design_id = app.bus().handle(
                    cmd.RegisterDesign(
                        CLI_OPERATOR,
                        part.path.name,
                        files.read_bytes(part.path, limit),
                        part.name,
                        part.process,
                        part.materials,
                        extra=part.extra,
                    )
                )
            except FabnetError as exc:
                failed.append({"part": part.name, "reason": str(exc)})
                continue
            done.append({"part": part.name, "design_id": design_id, "file": part.path.name})
    if as_json:
        emit_json({"imported": done, "skipped": failed})
    else:
        for d in done:
            out.print(
                f"{d['design_id']}  {d['part']}  ({d['file']})", highlight=False, markup=False
            )
        for f in failed:
            err.print(f"[yellow]skipped[/yellow] {f['part']}: {f['reason']}", highlight=False)
        out.print(f"{len(done)} designs, {len(failed)} parts skipped", highlight=False)
    if failed and not done:
        raise typer.Exit(65)


@designs.command("export")
def designs_export(
    out_dir: Annotated[Path, typer.Option("--out", help="a folder: one manifest and mesh each")],
) -> None:
    """Write each design as an OKH-LOSH manifest beside its mesh (read back by import)."""
    import re

    from fabnet.adapters.okh import losh_manifest
    from fabnet.services import views

    out_dir.mkdir(parents=True, exist_ok=True)
    count = 0
    with wired() as app:
        offset = 0
        while True:
            found = views.list_designs(app.new_uow(), CLI_OPERATOR, Page(MAX_PAGE, offset))
            for d in found.items:
                slug = re.sub(r"[^A-Za-z0-9._-]+", "-", d.name).strip("-")[:60] or d.id
                folder = out_dir / f"{slug}-{d.id[-6:]}"
                folder.mkdir(exist_ok=True)
                mesh = Path(d.filename).name or f"{d.id}.stl"
                (folder / mesh).write_bytes(app.blobs.get(d.blob_key))
                (folder / "okh.toml").write_text(
                    losh_manifest(
                        name=d.name,
                        filename=mesh,
                        process=d.process.value,
                        materials=d.materials,
                        license=d.extra.get("license", ""),
                        licensor=d.extra.get("licensor", ""),
                        version=d.extra.get("version", ""),
                        source=d.extra.get("source", ""),
                    ),
                    encoding="utf-8",
                )
                count += 1
            offset += len(found.items)
            if not found.items or offset >= found.total:
                break
    err.print(f"{count} designs written to {out_dir}")


@designs.command("review")
def designs_review(
    design_id: str,
    status: Annotated[ReviewStatus, typer.Option(help="the verdict")],
    notes: str = "",
    as_json: Json = False,
) -> None:
    """Set how far a design is vetted (a reviewer's verdict, logged)."""
    from fabnet.entrypoints.api.schemas.orders import DesignOut
    from fabnet.services import views

    with wired() as app:
        app.bus().handle(cmd.ReviewDesign(CLI_OPERATOR, DesignId(design_id), status, notes))
        show_one(
            DesignOut.of(views.get_design(app.new_uow(), CLI_OPERATOR, design_id)), as_json=as_json
        )


@designs.command("list")
def designs_list(limit: Limit = 50, offset: Offset = 0, as_json: Json = False) -> None:
    from fabnet.entrypoints.api.schemas.orders import DesignOut
    from fabnet.services import views

    with wired() as app:
        found = views.list_designs(app.new_uow(), CLI_OPERATOR, Page(limit, offset))
        show_items(
            [DesignOut.of(d) for d in found.items],
            ["id", "name", "process", "materials", "triangles"],
            as_json=as_json,
            total=found.total,
        )
