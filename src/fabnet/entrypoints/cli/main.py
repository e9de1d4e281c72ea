"""``fabnet``: serve the API, run the demo, quote, verify and witness the log; the nouns are in
*_commands.py, keys in keys.py."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fabnet.domain.errors import FabnetError
from fabnet.domain.states import Role
from fabnet.entrypoints.agent.cli import agent as agent_cli
from fabnet.entrypoints.cli import backup as backup_cli
from fabnet.entrypoints.cli import design_commands, files, order_commands, producer_commands
from fabnet.entrypoints.cli import logistics as logistics_cli
from fabnet.entrypoints.cli.common import (
    CLI_OPERATOR,
    cmd,
    emit_json,
    err,
    fail,
    out,
    wired,
)
from fabnet.entrypoints.cli.keys import keys as keys_cli
from fabnet.entrypoints.cli.ledger import ledger as ledger_cli
from fabnet.entrypoints.cli.ledger import witness
from fabnet.entrypoints.cli.plan import plan as plan_cli
from fabnet.entrypoints.errors import classify

if TYPE_CHECKING:
    from collections.abc import Callable

    from fabnet.bootstrap import App
    from fabnet.config import Settings
    from fabnet.sim.report import Summary

app = typer.Typer(
    rich_markup_mode=None,
    name="fabnet",
    help="Open coordination for massively distributed manufacturing.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(producer_commands.producers, name="producers")
app.add_typer(producer_commands.machines, name="machines")
app.add_typer(design_commands.designs, name="designs")
app.add_typer(order_commands.orders, name="orders")
app.add_typer(order_commands.jobs, name="jobs")
app.add_typer(logistics_cli.couriers, name="couriers")
app.add_typer(logistics_cli.shipments, name="shipments")
app.add_typer(agent_cli, name="agent")
app.add_typer(ledger_cli, name="ledger")
app.add_typer(plan_cli, name="plan")
app.command("backup")(backup_cli.backup)
app.command("restore")(backup_cli.restore)
app.add_typer(keys_cli, name="keys")


class Size(StrEnum):
    small = "small"
    medium = "medium"
    large = "large"


def _serve(settings: Settings, host: str, port: int, *, hub: bool = True, workers: int = 1) -> None:
    import os

    import uvicorn

    from fabnet.bootstrap import bootstrap
    from fabnet.entrypoints.api import create_app

    if workers > 1:  # each worker process wires its own app (app.from_environment)
        os.environ["FABNET_RUN_HUB"] = "true" if hub else "false"
        bootstrap(settings).close()  # migrate once, before the workers start
        uvicorn.run(
            "fabnet.entrypoints.api.app:from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
        )
        return
    wired_app = bootstrap(settings)
    wired_app.react = False  # the hub drains reactions in the background, not per request
    try:
        uvicorn.run(create_app(fabnet=wired_app, hub=hub), host=host, port=port, log_level="info")
    finally:
        wired_app.close()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: FABNET_HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(min=0, max=65535)] = None,
    hub: Annotated[
        bool, typer.Option("--hub/--no-hub", help="also run the hub's background work")
    ] = True,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="worker processes (one per core is typical)")
    ] = 1,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs and /openapi.json), with the hub's background
    work (reactions, sweeps, checkpoints, the machines' broker) unless --no-hub."""
    from fabnet.config import Settings

    settings = Settings()
    try:
        _serve(
            settings,
            host or settings.host,
            port if port is not None else settings.port,
            hub=hub,
            workers=workers,
        )
    except FabnetError as exc:
        raise fail(exc.message, classify(exc)[1]) from None


@app.command()
def hub() -> None:
    """Run the hub's background work without HTTP: reactions to events (planning,
    escrow, offers to agents), offer expiry, escrow sweeps, log checkpoints and the
    machines' broker. Several may run on one PostgreSQL: each task runs in one at a time."""
    import signal

    from fabnet.bootstrap import bootstrap
    from fabnet.config import Settings
    from fabnet.entrypoints.hub import Hub

    try:
        wired_app = bootstrap(Settings())
    except FabnetError as exc:
        raise fail(exc.message, classify(exc)[1]) from None
    runner = Hub(wired_app, wired_app.leases).start()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: runner.stop())
    err.print(f"hub running as {runner.holder} (Ctrl-C to stop)", highlight=False)
    try:
        runner.wait()
    finally:
        runner.stop()
        wired_app.close()


DEMO_ROUTING_ITERATIONS = 2_000  # per routing solve: bounded work, not time, so runs repeat


@app.command()
def demo(
    size: Annotated[Size, typer.Option(help="network and order size")] = Size.small,
    seed: Annotated[int, typer.Option(help="same seed, same run")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    serve_after: Annotated[
        bool, typer.Option("--serve", help="keep the API up afterwards")
    ] = False,
    port: Annotated[int, typer.Option(min=0, max=65535)] = 8000,
) -> None:
    """Coordinate a surge order across a simulated producer network, on SQLite."""
    from fabnet.bootstrap import bootstrap
    from fabnet.config import Settings
    from fabnet.sim.demo import run_demo
    from fabnet.sim.scenarios import SIZES

    settings = Settings()
    db_path = settings.data_dir / "demo.sqlite"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    settings = settings.model_copy(update={"database_url": f"sqlite:///{db_path}"})
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    from fabnet.services.ports import FixedClock, SeededIds

    clock = FixedClock(start)
    wired_app = bootstrap(settings, clock=clock, ids=SeededIds(seed))
    from fabnet.adapters.solvers.pyvrp_routing import PyVrpSolver

    wired_app.vrp_solver = PyVrpSolver(iterations=DEMO_ROUTING_ITERATIONS)  # same seed, same run
    config = SIZES[size.value]
    run = partial(run_demo, new_uow=wired_app.new_uow, clock=clock, config=config, seed=seed)
    try:
        if as_json:
            summary = run(bus=wired_app.bus())
        else:
            summary = _with_progress(run, wired_app, config.surge_units)
    except FabnetError as exc:
        raise fail(exc.message, classify(exc)[1]) from None
    finally:
        wired_app.close()
    if as_json:
        emit_json(summary.as_dict())
    else:
        _said(summary)
    if serve_after:
        key = bootstrap(settings).bus().handle(cmd.CreateApiKey("demo operator", Role.OPERATOR))
        err.print(
            f"API on http://127.0.0.1:{port} (docs at /docs); operator key: {key.secret}",
            soft_wrap=True,
            highlight=False,
        )
        _serve(settings, "127.0.0.1", port)


def _with_progress(run: Callable[..., Summary], wired_app: App, units: int) -> Summary:
    """The demo run with its stages said and a bar of the units made on stderr."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} units"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err) as bar:
        task = bar.add_task("making", total=units)

        def on_progress(made: int, ordered: int) -> None:
            bar.update(task, completed=made, total=ordered)

        summary: Summary = run(bus=wired_app.bus(), stage=err.print, progress=on_progress)
        return summary


def _said(s: Summary) -> None:
    """The demo's summary as lines for a person."""
    out.print(f"units ordered      {s.units_ordered}")
    out.print(f"units made         {s.units_made}")
    out.print(f"on time            {s.on_time_ratio:.1%}")
    out.print(f"producers engaged  {s.producers_engaged} of {s.producers}")
    out.print(f"jobs               {s.jobs} ({s.jobs_failed} failed and re-planned)")
    out.print(f"distance per unit  mean {s.distance_km_mean} km, p95 {s.distance_km_p95} km")
    out.print(f"units delivered    {s.units_delivered} ({s.delivered_on_time_ratio:.1%} on time)")
    out.print(
        f"per unit delivered {s.delivery_km_per_unit:.2f} km, {s.co2_kg_per_unit:.3f} kg CO2e"
    )
    out.print(
        f"naive baseline     {s.naive_km_per_unit:.2f} km, {s.naive_co2_kg_per_unit:.3f} kg"
        " CO2e per unit (one van trip a parcel)"
    )
    for mode, m in s.by_mode.items():
        out.print(
            f"  {mode:<17}{m['units']:>6} units, {m['km_per_unit']:.2f} km, "
            f"{m['co2_kg_per_unit']:.3f} kg CO2e per unit"
        )
    out.print(f"simulated          {s.sim_days:.1f} days in {s.wall_s:.1f} s")


@app.command()
def quote(
    mesh_file: Annotated[Path, typer.Argument(help="an STL, OBJ or 3MF file")],
    material: Annotated[str, typer.Option(help="FDM material")] = "PLA",
    qty: Annotated[int, typer.Option(help="units", min=1)] = 1,
    exact: Annotated[bool, typer.Option("--exact", help="also slice with PrusaSlicer")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Quote a part: geometry, printability, time and filament, price per producer class."""
    from fabnet.entrypoints.api.schemas.quotes import QuoteOut

    data = files.read_bytes(mesh_file)
    with wired() as fab:
        result = fab.bus().handle(
            cmd.RequestQuote(
                actor=CLI_OPERATOR,
                filename=mesh_file.name,
                data=data,
                material=material,
                quantity=qty,
                exact=exact,
            )
        )
    body = QuoteOut.of(result)
    if as_json:
        emit_json(body.model_dump(mode="json"))
        return
    x, y, z = body.bbox_mm
    lines = [
        f"{mesh_file.name}: {body.triangles} triangles, "
        f"{'watertight' if body.watertight else 'NOT watertight'}, {body.shells} shell(s)",
        f"size {x:.1f} x {y:.1f} x {z:.1f} mm, volume {body.volume_mm3 / 1000:.2f} cm3",
        f"estimate ({body.profile} profile, {body.material}): "
        f"{body.print_time_s / 3600:.2f} h and {body.filament_g:.1f} g per unit",
    ]
    if body.slicer_print_time_s is not None and body.slicer_filament_g is not None:
        lines.append(
            f"{body.slicer}: {body.slicer_print_time_s / 3600:.2f} h and "
            f"{body.slicer_filament_g:.1f} g per unit"
        )
    lines += [f"repaired: {r}" for r in body.repairs]
    lines += [f"warning: {w}" for w in body.warnings]
    lines.append(f"machines able to print it: {body.machines_able} of {body.machines_checked}")
    for o in body.options:
        price = f"{o.price.amount_minor / 100:.2f} {o.price.currency}" if o.price else "-"
        lead = f"{o.lead_time_days} d" if o.lead_time_days is not None else "no capacity"
        lines.append(
            f"  {o.producer_class:<8} {price:>14} for {body.quantity}  lead {lead:<12}"
            f" {o.producers} producer(s)"
        )
    for line in lines:
        out.print(line, highlight=False)


@app.command()
def provenance(
    order_id: str,
    out_file: Annotated[Path, typer.Option("--out", help="where to write the bundle (JSON)")],
) -> None:
    """Write the provenance bundle of an order: its log entries with their proofs."""
    import json

    with wired() as wired_app:
        bundle = wired_app.ledger().provenance(order_id)
    if not bundle["entries"]:
        raise fail(f"order {order_id!r}: nothing logged (unknown order?)", 66)
    files.write_text(out_file, json.dumps(bundle, indent=2))
    err.print(f"{len(bundle['entries'])} entries written to {out_file}")


@app.command()
def verify(
    bundle_file: Annotated[Path, typer.Argument(help="a provenance bundle (JSON)")],
    log_key: Annotated[str, typer.Option("--log-key", help="the log's verifier key")],
    witness_key: Annotated[
        list[str] | None, typer.Option("--witness-key", help="a trusted witness key")
    ] = None,
    quorum: Annotated[
        int | None, typer.Option(min=0, help="witness cosignatures needed (default: all)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Check a provenance bundle offline with public keys only; exit 0 only when every
    entry verifies."""

    from fabnet.ledger.merkle import ProofError
    from fabnet.ledger.notes import NoteError, Verifier
    from fabnet.ledger.proofs import verify_bundle

    bundle = files.read_json(bundle_file)
    try:
        log = Verifier.parse(log_key)
        witnesses = [Verifier.parse(k) for k in witness_key or []]
        report = verify_bundle(bundle, log, witnesses, len(witnesses) if quorum is None else quorum)
    except (ValueError, ProofError, NoteError) as exc:
        raise fail(f"does not verify: {exc}", 1) from None
    summary = {
        "verified": True,
        "entries": report.entries,
        "checkpoint_size": max(report.checkpoint_sizes),
        "events": [r.get("event") for r in report.records],
    }
    if as_json:
        emit_json(summary)
    else:
        out.print(
            f"OK: {report.entries} entries verify against checkpoint size "
            f"{summary['checkpoint_size']} with {len(witnesses)} witness key(s)"
        )


app.command("witness")(witness)


def run() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()
