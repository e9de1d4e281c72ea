"""The CLI's file writes: whole or not at all, and never over what is not a file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import typer

from fabnet.entrypoints.cli import files


def test_a_write_that_fails_leaves_the_file_that_was_there(tmp_path, monkeypatch):
    """A plan cut short (a full disk, Ctrl-C) stayed half written under its own name."""
    plan = tmp_path / "plan.json"
    plan.write_text('{"old": true}')
    real_open = Path.open

    class Full:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            self.handle.write(data[:10])
            raise OSError(28, "No space left on device")

    def half_open(self, mode="r", *args, **kwargs):
        handle = real_open(self, mode, *args, **kwargs)
        return Full(handle) if "w" in mode else handle

    monkeypatch.setattr(Path, "open", half_open)
    with pytest.raises(typer.Exit) as exited:
        files.write_text(plan, '{"new": "' + "x" * 1000 + '"}')
    assert exited.value.exit_code == files.CANT_CREATE
    monkeypatch.undo()
    assert plan.read_text() == '{"old": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]  # no partial left


def test_a_write_keeps_a_links_target_and_a_files_permissions(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    files.write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


def test_a_device_is_written_to_not_replaced():
    """``--out /dev/stdout`` (or /dev/null) writes through; renaming a file over it
    would replace the device itself (as root, for every process after)."""
    before = os.stat("/dev/null")
    files.write_text(Path("/dev/null"), "plan")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_a_folder_is_refused_by_name(tmp_path):
    with pytest.raises(typer.Exit) as exited:
        files.write_text(tmp_path, "plan")
    assert exited.value.exit_code == files.CANT_CREATE
    with pytest.raises(typer.Exit):
        files.write_text(tmp_path / "missing" / "plan.json", "plan")


def test_dev_stdout_redirected_to_a_file_writes_into_that_file(tmp_path):
    """``--out /dev/stdout > plan.json``: /dev/stdout links to the file the shell holds
    open; renaming over it would leave the shell's file behind and its other output lost."""
    held = tmp_path / "redirected.json"
    with held.open("wb") as shell:
        before = os.stat(held).st_ino
        files.write_text(Path(f"/proc/self/fd/{shell.fileno()}"), "plan")
    assert os.stat(held).st_ino == before and held.read_text() == "plan"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["redirected.json"]
