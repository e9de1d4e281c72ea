"""``fabnet producers|machines|designs|orders|jobs ...``: the nouns, as the operator.

Heavy modules (the API's schemas, the store, YAML, the gazetteer) load inside the
command that needs them: ``fabnet --help`` must not wait for them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fabnet.domain.errors import FabnetError
from fabnet.domain.ids import DesignId, JobId, MachineId, OrderId, ProducerId
from fabnet.domain.states import DeclineReason, FacilityStatus, JobState, OrderState, ReviewStatus
from fabnet.entrypoints.cli.common import (
    CLI_OPERATOR,
    emit_json,
    err,
    fail,
    lazy_module,
    out,
    show_items,
    show_one,
    wired,
)
from fabnet.services.paging import MAX_OFFSET, MAX_PAGE, Page

if TYPE_CHECKING:
    from fabnet.services import commands as cmd
else:
    cmd = lazy_module("fabnet.services.commands")

producers = typer.Typer(
    rich_markup_mode=None, help="Producers (facilities): list, show, import and export OKW."
)
machines = typer.Typer(rich_markup_mode=None, help="Machines of producers.")
designs = typer.Typer(rich_markup_mode=None, help="Designs (meshes), stored by content hash.")
orders = typer.Typer(rich_markup_mode=None, help="Orders: list, show, cancel, plan.")
jobs = typer.Typer(rich_markup_mode=None, help="Jobs: units of an order line on one machine.")

MAX_OKW_BYTES = 64 << 20
Json = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
Limit = Annotated[int, typer.Option(min=1, max=500, help="items per page")]
Offset = Annotated[int, typer.Option(min=0, max=MAX_OFFSET, help="items to skip")]


@producers.command("list")
def producers_list(
    status: Annotated[FacilityStatus | None, typer.Option()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    as_json: Json = False,
) -> None:
    from fabnet.entrypoints.api.schemas.producers import ProducerOut
    from fabnet.services import views

    with wired() as app:
        found = views.list_producers(
            app.new_uow(), CLI_OPERATOR, Page(limit, offset), status=status
        )
        items = [ProducerOut.of(p) for p in found.items]
        show_items(
            items, ["id", "name", "status", "reliability"], as_json=as_json, total=found.total
        )


@producers.command("show")
def producers_show(producer_id: str, as_json: Json = False) -> None:
    from fabnet.entrypoints.api.schemas.producers import ProducerOut
    from fabnet.services import views

    with wired() as app:
        show_one(
            ProducerOut.of(views.get_producer(app.new_uow(), CLI_OPERATOR, producer_id)),
            as_json=as_json,
        )


@producers.command("import")
def producers_import(
    file: Annotated[Path, typer.Argument(help="OKW records, .json or .yaml")],
    machines_csv: Annotated[
        Path | None,
        typer.Option(
            "--machines",
            help="the IoPA machine list (CSV: name, brand, class_1, lab) for its facility export",
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """Import OKW facility records (also the IoPA's relational export of fablabs.io, with
    its machine list). Every problem of an invalid record is reported (exit code 65 when
    any was invalid) while the valid ones are imported; what was assumed or left out of
    planning is reported as a warning; importing the same file again changes nothing."""

    from fabnet.adapters.gazetteer import Gazetteer
    from fabnet.adapters.okw import OkwReader, load_iopa_machines, load_records
    from fabnet.entrypoints.cli import files

    fmt = "json" if file.suffix.lower() == ".json" else "yaml"
    if file.suffix.lower() not in (".json", ".yaml", ".yml"):
        raise fail(f"{file}: expected a .json, .yaml or .yml file", 65)
    text = files.read_text(file, MAX_OKW_BYTES)
    csv_text = files.read_text(machines_csv, MAX_OKW_BYTES) if machines_csv else None
    with wired() as app:
        machine_rows = load_iopa_machines(csv_text) if csv_text is not None else None
        records = load_records(text, fmt)
        result = OkwReader(Gazetteer(), machine_rows).read(records)
        report = app.bus().handle(
            cmd.ImportFacilities(CLI_OPERATOR, tuple(spec for _, spec in result.good))
        )
    specs = [spec for _, spec in result.good]
    machines = [m for spec in specs for m in spec.machines]
    summary = {
        "records": len(records),
        "created": len(report.created),
        "updated": len(report.updated),
        "unchanged": len(report.unchanged),
        "machines": len(machines),
        "machines_unverified": sum(1 for m in machines if m.unverified),
        "other_equipment": sum(
            len([e for e in spec.extra.get("other_equipment", "").split("\n") if e])
            for spec in specs
        ),
        "located": result.located,
        "invalid_records": len({e.index for e in result.bad}),
        "invalid": [e.as_dict() for e in result.bad],
        "warnings": [e.as_dict() for e in result.warnings],
    }
    if as_json:
        emit_json(summary)
    else:
        for w in result.warnings:
            err.print(f"[cyan]note[/cyan] {w}", highlight=False, markup=True)
        for e in result.bad:
            err.print(f"[yellow]invalid[/yellow] {e}", highlight=False)
        placed = ", ".join(f"{n} by {how}" for how, n in sorted(result.located.items()))
        out.print(
            f"{len(records)} records: {summary['created']} created, {summary['updated']} "
            f"updated, {summary['unchanged']} unchanged, {summary['invalid_records']} invalid; "
            f"{len(machines)} machines ({summary['machines_unverified']} unverified), "
            f"{summary['other_equipment']} other equipment kept"
            + (f"; placed from the address: {placed}" if placed else ""),
            highlight=False,
            markup=False,
        )
    if result.bad:
        raise typer.Exit(65)


@producers.command("export")
def producers_export(
    out_file: Annotated[Path | None, typer.Option("--out", help="file; stdout if absent")] = None,
    fmt: Annotated[str, typer.Option("--format", help="json or yaml")] = "json",
) -> None:
    """Write every producer and its machines as OKW records."""
    import yaml

    from fabnet.adapters.okw import export_records
    from fabnet.entrypoints.cli import files

    if fmt not in ("json", "yaml"):
        raise fail("--format must be json or yaml", 2)
    with wired() as app, app.new_uow() as uow:
        records = export_records(uow.producers.everyone(), uow.machines.everyone())
    import json

    text = json.dumps(records, indent=2) if fmt == "json" else yaml.safe_dump(records)
    if out_file is None:
        out.print(text, highlight=False, markup=False)
    else:
        files.write_text(out_file, text)
        err.print(f"{len(records)} producers written to {out_file}")


@machines.command("list")
def machines_list(
    producer_id: Annotated[str | None, typer.Option()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    as_json: Json = False,
) -> None:
    from fabnet.entrypoints.api.schemas.producers import MachineOut
    from fabnet.services import views

    with wired() as app:
        found = views.list_machines(
            app.new_uow(), CLI_OPERATOR, Page(limit, offset), producer_id=producer_id
        )
        show_items(
            [MachineOut.of(m) for m in found.items],
            ["id", "producer_id", "name", "process", "materials", "status"],
            as_json=as_json,
            total=found.total,
        )


@machines.command("confirm")
def machines_confirm(
    machine_id: str,
    build_volume: Annotated[
        str, typer.Option("--build-volume", help="x, y, z in mm, e.g. 250x210x210")
    ],
    material: Annotated[list[str], typer.Option("--material", help="a material it works (repeat)")],
    as_json: Json = False,
) -> None:
    """State an unverified machine's build volume and materials: it is planned on from now."""
    import re

    from fabnet.entrypoints.api.schemas.producers import MachineOut
    from fabnet.services import views

    try:
        x, y, z = (float(p) for p in re.split(r"\s*[x,]\s*", build_volume.strip().lower()))
    except ValueError:
        raise fail("--build-volume: expected three sizes in mm, e.g. 250x210x210", 2) from None
    with wired() as app:
        app.bus().handle(
            cmd.ConfirmMachine(CLI_OPERATOR, MachineId(machine_id), (x, y, z), tuple(material))
        )
        show_one(
            MachineOut.of(views.get_machine(app.new_uow(), CLI_OPERATOR, machine_id)),
            as_json=as_json,
        )


@machines.command("coupon")
def machines_coupon(
    out_file: Annotated[Path, typer.Option("--out", help="where to write the STL")],
) -> None:
    """Write fabnet's test coupon (STL): print it on a new machine, then measure it."""
    from fabnet.adapters.geometry.coupon import coupon_stl
    from fabnet.entrypoints.cli import files
    from fabnet.fabrication.qualification import COUPON

    files.write_bytes(out_file, coupon_stl())
    err.print(f"coupon written to {out_file}; measure, in mm:", highlight=False)
    for feature, (nominal, what) in COUPON.items():
        err.print(f"  {feature} ({what}, nominal {nominal:g})", highlight=False)


@machines.command("qualify")
def machines_qualify(
    machine_id: str,
    measure: Annotated[
        list[str], typer.Option("--measure", help="FEATURE=MM for each coupon feature")
    ],
    photo: Annotated[Path | None, typer.Option(help="a photo of the printed coupon")] = None,
    material: Annotated[
        str, typer.Option(help="what the coupon was printed in (default: its first material)")
    ] = "",
    as_json: Json = False,
) -> None:
    """Record a machine's test-coupon measurements; a failed coupon keeps it unplanned, a
    passed one starts it on probation (bounded jobs until it has proved itself)."""
    from fabnet.entrypoints.cli import files

    values: dict[str, object] = {}
    for item in measure:
        feature, sep, value = item.partition("=")
        try:
            values[feature.strip()] = float(value)
        except ValueError:
            raise fail(f"--measure {item!r}: expected FEATURE=MM, e.g. length_mm=40.1", 2) from None
        if not sep:
            raise fail(f"--measure {item!r}: expected FEATURE=MM", 2)
    data = files.read_bytes(photo, 10 << 20) if photo else b""
    with wired() as app:
        done = app.bus().handle(
            cmd.QualifyMachine(CLI_OPERATOR, MachineId(machine_id), values, data, material)
        )
    result = {
        "machine_id": done.machine_id,
        "passed": done.passed,
        "failed_features": [f for f in done.failed_features.split(",") if f],
        "photo_hash": done.photo_hash,
        "material": done.material,
        "probation_jobs": done.probation_jobs,
    }
    if as_json:
        emit_json(result)
    else:
        verdict = "passed" if done.passed else f"failed: {done.failed_features}"
        if done.probation_jobs:
            verdict += f"; on probation for its next {done.probation_jobs} jobs"
        out.print(f"{machine_id} ({done.material}): {verdict}", highlight=False, markup=False)


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


@orders.command("list")
def orders_list(
    state: Annotated[OrderState | None, typer.Option()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    as_json: Json = False,
) -> None:
    from fabnet.entrypoints.api.schemas.orders import OrderOut
    from fabnet.services import views

    with wired() as app:
        found = views.list_orders(app.new_uow(), CLI_OPERATOR, Page(limit, offset), state=state)
        show_items(
            [OrderOut.of(o) for o in found.items],
            ["id", "state", "reference", "quantity", "units_made", "priority"],
            as_json=as_json,
            total=found.total,
        )


@orders.command("create")
def orders_create(
    design_id: Annotated[str, typer.Option("--design", help="the design's id")],
    quantity: Annotated[int, typer.Option(min=1, help="units")],
    deadline: Annotated[str, typer.Option(help="ISO 8601 with a timezone, e.g. 2026-12-20T12:00Z")],
    to: Annotated[
        str,
        typer.Option(
            "--to", help="destination: a city, optionally ', COUNTRY' (e.g. 'Nairobi, KE')"
        ),
    ] = "",
    lat: Annotated[
        float | None, typer.Option(help="destination latitude (instead of --to)")
    ] = None,
    lon: Annotated[float | None, typer.Option(help="destination longitude")] = None,
    material: Annotated[str, typer.Option(help="e.g. PLA")] = "PLA",
    priority: Annotated[int, typer.Option(min=0, max=9)] = 0,
    min_review: Annotated[
        ReviewStatus, typer.Option(help="plan only once the design is reviewed this far")
    ] = ReviewStatus.NOT_REVIEWED,
    reference: str = "",
    as_json: Json = False,
) -> None:
    """Place an order of one line and plan it (as the operator, for a consumer without the API)."""
    from datetime import datetime

    from fabnet.entrypoints.api.schemas.orders import OrderOut
    from fabnet.services import views

    try:
        due = datetime.fromisoformat(deadline.replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"--deadline: {deadline!r} is not an ISO 8601 date and time", 2) from None
    if due.tzinfo is None:
        raise fail("--deadline: give a timezone, e.g. 2026-12-20T12:00+00:00", 2)
    if (lat is None) != (lon is None):
        raise fail("--lat and --lon go together", 2)
    if lat is None and not to.strip():
        raise fail("give the destination: --to CITY[, COUNTRY] or --lat and --lon", 2)
    with wired() as app:
        if lat is not None and lon is not None:
            where = (lat, lon)
        else:
            from fabnet.adapters.places import resolve_place, split_place

            city, country = split_place(to)
            where = resolve_place(city, country, "--to")
        line = cmd.LineRequest(
            DesignId(design_id), material, quantity, due, where[0], where[1], min_review
        )
        order_id = app.bus().handle(
            cmd.PlaceOrder(CLI_OPERATOR, (line,), priority=priority, reference=reference)
        )
        show_one(
            OrderOut.of(views.get_order(app.new_uow(), CLI_OPERATOR, order_id)), as_json=as_json
        )


@orders.command("show")
def orders_show(order_id: str, as_json: Json = False) -> None:
    from fabnet.entrypoints.api.schemas.orders import OrderOut
    from fabnet.services import views

    with wired() as app:
        show_one(
            OrderOut.of(views.get_order(app.new_uow(), CLI_OPERATOR, order_id)), as_json=as_json
        )


@orders.command("cancel")
def orders_cancel(order_id: str, reason: str = "", as_json: Json = False) -> None:
    from fabnet.entrypoints.api.schemas.orders import OrderOut
    from fabnet.services import views

    with wired() as app:
        app.bus().handle(cmd.CancelOrder(CLI_OPERATOR, OrderId(order_id), reason))
        show_one(
            OrderOut.of(views.get_order(app.new_uow(), CLI_OPERATOR, order_id)), as_json=as_json
        )


@orders.command("plan")
def orders_plan(as_json: Json = False) -> None:
    """Plan every open order's unallocated units now."""
    with wired() as app:
        report = app.bus().handle(cmd.PlanOrders())
    data = {
        "orders": report.orders,
        "jobs_offered": len(report.jobs_offered),
        "units_assigned": report.units_assigned,
        "units_unmet": report.units_unmet,
        "unmet": report.unmet,
    }
    if as_json:
        emit_json(data)
    else:
        out.print(
            f"{data['orders']} orders: {data['units_assigned']} units in "
            f"{data['jobs_offered']} offers, {data['units_unmet']} unmet"
        )
        for line_id, reason in report.unmet.items():
            out.print(f"  {line_id}: {reason}")


@jobs.command("list")
def jobs_list(
    state: Annotated[JobState | None, typer.Option()] = None,
    producer_id: Annotated[str | None, typer.Option()] = None,
    order_id: Annotated[str | None, typer.Option()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    as_json: Json = False,
) -> None:
    from fabnet.entrypoints.api.schemas.orders import JobOut
    from fabnet.services import views

    with wired() as app:
        found = views.list_jobs(
            app.new_uow(),
            CLI_OPERATOR,
            Page(limit, offset),
            state=state,
            producer_id=producer_id,
            order_id=order_id,
        )
        show_items(
            [JobOut.of(j) for j in found.items],
            ["id", "order_id", "machine_id", "units", "state", "units_made"],
            as_json=as_json,
            total=found.total,
        )


@jobs.command("decline")
def jobs_decline(
    job_id: str,
    kind: Annotated[
        DeclineReason, typer.Option(help="why: it changes what the planner knows")
    ] = DeclineReason.OTHER,
    reason: Annotated[str, typer.Option(help="free text")] = "",
    as_json: Json = False,
) -> None:
    """Decline an offer for a producer without an agent (as the operator)."""
    from fabnet.entrypoints.api.schemas.orders import JobOut
    from fabnet.services import views

    with wired() as app:
        app.bus().handle(cmd.DeclineJob(CLI_OPERATOR, JobId(job_id), reason, kind))
        show_one(JobOut.of(views.get_job(app.new_uow(), CLI_OPERATOR, job_id)), as_json=as_json)


@producers.command("reliability")
def producers_reliability(producer_id: str, as_json: Json = False) -> None:
    """What the hub has learned of a producer and its machines, with uncertainty."""
    from fabnet.entrypoints.api.routers.producers import reliability_of

    with wired() as app:
        found = reliability_of(app.new_uow(), CLI_OPERATOR, producer_id, app.clock.now())
    if as_json:
        emit_json(found.model_dump(mode="json"))
        return
    rows = [("producer", found.producer), *((m.name, m) for m in found.machines)]
    for label, b in rows:
        lo, hi = b.interval_90
        out.print(
            f"{label:<24} {b.mean:.3f}  90% in [{lo:.3f}, {hi:.3f}]  "
            f"from {b.successes:.1f} ok, {b.failures:.1f} failed (discounted)",
            highlight=False,
            markup=False,
        )


@producers.command("invite")
def producers_invite(
    producer_id: str,
    days: Annotated[float, typer.Option(min=0.001, max=90, help="valid for")] = 7.0,
    as_json: Json = False,
) -> None:
    """A one-time enrolment code for a producer: it exchanges it at POST /enrol (or
    fabnet-agent enrol) for its API key."""
    with wired() as app:
        found = app.bus().handle(
            cmd.InviteProducer(CLI_OPERATOR, ProducerId(producer_id), days * 86400)
        )
    data = {
        "producer_id": found.producer_id,
        "code": found.code,
        "expires_at": found.expires_at.isoformat(),
    }
    if as_json:
        emit_json(data)
    else:
        out.print(f"enrolment code for {found.producer_id} (once, until {data['expires_at']}):")
        out.print(found.code, highlight=False, markup=False)


@producers.command("restock")
def producers_restock(producer_id: str, material: str, as_json: Json = False) -> None:
    """Put a material back on the machines an out-of-material decline took it off."""
    from fabnet.entrypoints.api.schemas.producers import ProducerOut
    from fabnet.services import views

    with wired() as app:
        app.bus().handle(cmd.RestockMaterial(CLI_OPERATOR, ProducerId(producer_id), material))
        show_one(
            ProducerOut.of(views.get_producer(app.new_uow(), CLI_OPERATOR, producer_id)),
            as_json=as_json,
        )


@jobs.command("inspect")
def jobs_inspect(
    job_id: str,
    aql: Annotated[float, typer.Option(help="acceptable quality limit, percent")],
    nonconforming: Annotated[
        int | None, typer.Option(min=0, help="found in the sample; leave out to see the plan")
    ] = None,
    note: str = "",
    as_json: Json = False,
) -> None:
    """Inspect a finished job's lot: without --nonconforming, print the sampling plan
    (ISO 2859-1, normal, level II); with it, record the result and the decision."""
    from fabnet.services.quality import sampling_plan

    with wired() as app:
        if nonconforming is None:
            plan = sampling_plan(app.new_uow(), CLI_OPERATOR, job_id, aql)
            data: dict[str, object] = {
                "lot_size": plan.lot_size,
                "code_letter": plan.code_letter,
                "sample_size": plan.sample_size,
                "accept": plan.accept,
                "reject": plan.reject,
                "full_inspection": plan.full_inspection,
            }
        else:
            done = app.bus().handle(
                cmd.InspectLot(CLI_OPERATOR, JobId(job_id), aql, nonconforming, note)
            )
            data = {
                "lot_size": done.lot_size,
                "sample_size": done.sample_size,
                "nonconforming": done.nonconforming,
                "accept": done.accept,
                "accepted": done.accepted,
            }
    if as_json:
        emit_json(data)
    else:
        for key, value in data.items():
            out.print(f"{key}: {value}", highlight=False, markup=False)


@jobs.command("show")
def jobs_show(job_id: str, as_json: Json = False) -> None:
    from fabnet.entrypoints.api.schemas.orders import JobOut
    from fabnet.services import views

    with wired() as app:
        show_one(JobOut.of(views.get_job(app.new_uow(), CLI_OPERATOR, job_id)), as_json=as_json)
