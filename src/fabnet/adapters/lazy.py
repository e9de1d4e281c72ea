"""Adapters built on first use: the mesh kernel, the flow solver, the slicer load heavy
libraries (trimesh, OR-Tools) that most commands never need, so ``fabnet orders list``
does not wait for them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Lazy:
    """Stands for the object ``build()`` makes, making it when first used."""

    def __init__(self, build: Callable[[], Any]) -> None:
        object.__setattr__(self, "_build", build)
        object.__setattr__(self, "_made", None)
        object.__setattr__(self, "_lock", threading.Lock())

    def _target(self) -> Any:
        made = object.__getattribute__(self, "_made")
        if made is None:
            with object.__getattribute__(self, "_lock"):
                made = object.__getattribute__(self, "_made")
                if made is None:
                    made = object.__getattribute__(self, "_build")()
                    object.__setattr__(self, "_made", made)
        return made

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target(), name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._target()(*args, **kwargs)
