"""`fabnet agent`: run the producer agent, and the producer's own decisions beside it."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fabnet.domain.errors import FabnetError
from fabnet.entrypoints.errors import classify

if TYPE_CHECKING:  # loaded when a command runs, not for --help
    from fabnet.entrypoints.agent.outbox import AgentStore

agent = typer.Typer(
    rich_markup_mode=None,
    help="The producer agent: `fabnet agent --config agent.toml` runs it.",
    invoke_without_command=True,
)
ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="the agent's TOML file")]


def _fail(exc: FabnetError) -> typer.Exit:
    typer.echo(f"error: {exc.message}", err=True)
    return typer.Exit(classify(exc)[1])


@agent.callback()
def run(ctx: typer.Context, config: ConfigOpt = Path("agent.toml")) -> None:
    """Run the agent until interrupted (SIGINT/SIGTERM)."""
    if ctx.invoked_subcommand is not None:
        return
    from fabnet.adapters.slicer import PrusaSlicer
    from fabnet.entrypoints.agent.agent import Agent
    from fabnet.entrypoints.agent.config import load_config

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        settings = load_config(config)
        running = Agent(settings, slicer=PrusaSlicer()).start()
    except FabnetError as exc:
        raise _fail(exc) from None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    typer.echo(
        f"agent for {settings.producer_id}: {len(settings.machines)} machine(s), "
        f"broker {settings.broker.url}",
        err=True,
    )
    stop.wait()
    running.stop()


def _store(config: Path) -> AgentStore:
    from fabnet.entrypoints.agent.config import load_config
    from fabnet.entrypoints.agent.outbox import AgentStore

    try:
        settings = load_config(config)
    except FabnetError as exc:
        raise _fail(exc) from None
    return AgentStore(settings.data_dir / "agent.sqlite")


@agent.command("bed-clear")
def bed_clear(machine_id: str, config: ConfigOpt = Path("agent.toml")) -> None:
    """Confirm the machine's bed is clear: the agent may start its next job."""
    store = _store(config)
    store.set_bed(machine_id, True)
    store.close()
    typer.echo(f"{machine_id}: bed clear")


@agent.command("jobs")
def jobs(machine_id: str, config: ConfigOpt = Path("agent.toml")) -> None:
    """The jobs the agent holds for a machine, oldest first."""
    store = _store(config)
    states = ("offered", "accepted", "printing", "done", "failed", "cancelled", "declined")
    for spec, state, done in store.jobs(machine_id, states):
        typer.echo(f"{spec.job_id}  {state:<10} {done}/{spec.units} units  {spec.material}")
    store.close()


def _decide(job_id: str, config: Path, *, accept: bool, reason: str = "") -> None:
    from fabnet.entrypoints.agent.config import load_config
    from fabnet.entrypoints.agent.outbox import AgentStore
    from fabnet.services.machine_messages import EventType

    try:
        settings = load_config(config)
    except FabnetError as exc:
        raise _fail(exc) from None
    store = AgentStore(settings.data_dir / "agent.sqlite")
    try:
        known = store.job(job_id)
        if known is None or known[2] != "offered":
            typer.echo(f"error: job {job_id!r} is not waiting for a decision", err=True)
            raise typer.Exit(75)
        machine_id = known[0]
        store.set_job(job_id, "accepted" if accept else "declined", detail=reason)
        kind = EventType.ACCEPTED if accept else EventType.DECLINED
        # the running agent sends it from the outbox, in order with the machine's others
        store.add_event(
            settings.producer_id, machine_id, job_id, kind, datetime.now(UTC), cause=reason
        )
    finally:
        store.close()
    typer.echo(f"{job_id}: {'accepted' if accept else 'declined'}")


@agent.command("accept")
def accept(job_id: str, config: ConfigOpt = Path("agent.toml")) -> None:
    """Accept an offered job (when auto_accept is off)."""
    _decide(job_id, config, accept=True)


@agent.command("decline")
def decline(
    job_id: str,
    reason: Annotated[str, typer.Option(help="why, for the hub")] = "",
    config: ConfigOpt = Path("agent.toml"),
) -> None:
    """Decline an offered job: the hub plans its units elsewhere."""
    _decide(job_id, config, accept=False, reason=reason)
