"""Design files on disk, by content hash (``ab/cd/abcd...``), written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from fabnet.domain.errors import InvalidInput, NotFound


class FileBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if len(key) < 8 or not all(c in "0123456789abcdef" for c in key):
            raise InvalidInput("key", "a blob key is a lowercase hex digest")
        return self.root / key[:2] / key[2:4] / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.exists():
            return
        for folder in (self.root, path.parent.parent, path.parent):  # owner only
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # mode 600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise NotFound("blob", key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).exists()
