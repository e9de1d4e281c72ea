"""Files the CLI reads and writes: every failure is a message and an exit code.

Reading is bounded before it costs memory (the size is checked first), text must be
UTF-8, JSON must parse and may not nest deeper than the parser's recursion limit; writing
reports a missing folder or a refused write instead of a traceback, and never leaves a
file half written.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from fabnet.entrypoints.cli.common import fail

NO_INPUT, DATA_ERROR, CANT_CREATE = 66, 65, 73
MAX_TEXT_BYTES = 1 << 30  # problem files of a national plan run to hundreds of MB


def read_bytes(path: Path, limit: int = MAX_TEXT_BYTES) -> bytes:
    if not path.exists():
        raise fail(f"{path}: no such file", NO_INPUT)
    if not path.is_file():
        raise fail(f"{path}: not a file", NO_INPUT)
    try:
        if path.stat().st_size > limit:
            raise fail(f"{path}: larger than the limit of {limit} bytes", DATA_ERROR)
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise fail(f"{path}: cannot read: {exc.strerror}", NO_INPUT) from None
    if len(data) > limit:  # it grew while we read it
        raise fail(f"{path}: larger than the limit of {limit} bytes", DATA_ERROR)
    return data


def read_text(path: Path, limit: int = MAX_TEXT_BYTES) -> str:
    data = read_bytes(path, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"{path}: not UTF-8 text (byte {exc.start})", DATA_ERROR) from None


def parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(f"{where}: not valid JSON: {exc}", DATA_ERROR) from None
    except RecursionError:
        raise fail(f"{where}: JSON nested too deeply", DATA_ERROR) from None


def read_json(path: Path, limit: int = MAX_TEXT_BYTES) -> Any:
    return parse_json(read_text(path, limit), str(path))


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    """``data`` in ``path`` whole or not at all: written beside it under a temporary name
    and renamed over it, so an interrupted or failed write leaves the file that was there
    (a plan of hundreds of MB cut short by Ctrl-C or a full disk used to stay half
    written under its own name). A device, a pipe or a link is written through."""
    if not path.parent.is_dir():
        raise fail(f"{path}: the folder {path.parent} does not exist", CANT_CREATE)
    if path.is_symlink() or (path.exists() and not path.is_file()):
        # a device, a pipe or a link (/dev/stdout, whose target may be the file the shell
        # redirects to and holds open): written through, as it is
        try:
            with path.open("wb") as handle:
                handle.write(data)
        except OSError as exc:
            raise fail(f"{path}: cannot write: {exc.strerror}", CANT_CREATE) from None
        return
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with partial.open("wb") as handle:
            handle.write(data)
        if path.exists():  # its permissions, not the umask's
            os.chmod(partial, stat.S_IMODE(path.stat().st_mode))
        os.replace(partial, path)
    except OSError as exc:
        raise fail(f"{path}: cannot write: {exc.strerror}", CANT_CREATE) from None
    finally:
        partial.unlink(missing_ok=True)
