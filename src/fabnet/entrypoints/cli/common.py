"""What every CLI command shares: settings, the wired app, errors, output."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from fabnet.domain.errors import FabnetError
from fabnet.domain.ids import PrincipalId
from fabnet.domain.principal import Principal
from fabnet.domain.states import Role
from fabnet.entrypoints.errors import classify
from fabnet.services.paging import MAX_OFFSET

if TYPE_CHECKING:  # the heavy modules load when a command runs, not for --help
    from pydantic import BaseModel

    from fabnet.bootstrap import App

CLI_OPERATOR = Principal(PrincipalId("usr_cli_operator"), Role.OPERATOR)
Json = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
Limit = Annotated[int, typer.Option(min=1, max=500, help="items per page")]
Offset = Annotated[int, typer.Option(min=0, max=MAX_OFFSET, help="items to skip")]


class _LazyModule:
    """A module imported on first attribute use: the commands catalogue and the ports
    load the whole domain, which ``fabnet --help`` never needs."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        import importlib

        return getattr(importlib.import_module(self._name), attr)


def lazy_module(name: str) -> Any:
    return _LazyModule(name)


# the commands catalogue, for every noun's commands
if TYPE_CHECKING:
    from fabnet.services import commands as _commands

    cmd = _commands
else:
    cmd = lazy_module("fabnet.services.commands")


err = Console(stderr=True)
out = Console()


@contextmanager
def wired() -> Iterator[App]:
    """The app for one command; FabnetErrors become a message and an exit code."""
    from fabnet.bootstrap import bootstrap
    from fabnet.config import Settings

    app: App | None = None
    try:
        app = bootstrap(Settings())
        yield app
    except FabnetError as exc:
        if json_mode():
            from fabnet.entrypoints.errors import body

            sys.stderr.write(json.dumps(body(exc), default=str) + "\n")
        else:
            err.print(f"[red]error:[/red] {exc.message}", highlight=False, soft_wrap=True)
        raise typer.Exit(classify(exc)[1]) from None
    finally:
        if app is not None:
            app.close()


def json_mode() -> bool:
    """Whether the command was asked for JSON: its errors are JSON too (on stderr, as
    the API's error body), so a script reads one format."""
    try:  # typer carries its own click
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - a typer that uses click itself
        from click import get_current_context  # type: ignore[no-redef]

    ctx = get_current_context(silent=True)
    if ctx is not None and "as_json" in ctx.params:
        return bool(ctx.params["as_json"])
    return "--json" in sys.argv[1:]


def fail(message: str, code: int = 2) -> typer.Exit:
    if json_mode():
        error = {"type": "invalid_input" if code in (2, 65) else "error", "message": message}
        sys.stderr.write(json.dumps({"error": error}) + "\n")
    else:
        err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def show_items(
    items: Sequence[BaseModel], columns: list[str], *, as_json: bool, total: int | None = None
) -> None:
    if as_json:
        emit_json(
            {"items": [i.model_dump(mode="json") for i in items], "total": total or len(items)}
        )
        return
    from rich.table import Table

    table = Table(*columns)
    for item in items:
        data = item.model_dump(mode="json")
        table.add_row(*(_cell(data.get(c)) for c in columns))
    out.print(table)
    if total is not None and total > len(items):
        out.print(f"{len(items)} of {total} shown (use --limit/--offset)")


def show_one(item: BaseModel, *, as_json: bool) -> None:
    if as_json:
        emit_json(item.model_dump(mode="json"))
        return
    for key, value in item.model_dump(mode="json").items():
        out.print(f"[bold]{key}[/bold]: {_cell(value)}", highlight=False)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return "" if value is None else str(value)
