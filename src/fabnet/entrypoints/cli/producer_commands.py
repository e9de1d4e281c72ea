"""``fabnet producers|machines ...``: facilities and their machines, as the operator.

Heavy modules (the API's schemas, the store, YAML, the gazetteer) load inside the
command that needs them: ``fabnet --help`` must not wait for them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fabnet.domain.ids import MachineId, ProducerId
from fabnet.domain.states import FacilityStatus
from fabnet.entrypoints.cli.common import (
    CLI_OPERATOR,
    Json,
    Limit,
    Offset,
    cmd,
    emit_json,
    err,
    fail,
    out,
    show_items,
    show_one,
    wired,
)
from fabnet.services.paging import Page

producers = typer.Typer(
    rich_markup_mode=None, help="Producers (facilities): list, show, import and export OKW."
)
machines = typer.Typer(rich_markup_mode=None, help="Machines of producers.")

MAX_OKW_BYTES = 64 << 20


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
    from fabnet.adapters.okw import OkwReader, load_records
    from fabnet.adapters.okw_iopa import load_iopa_machines
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

    from fabnet.adapters.okw_export import export_records
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
