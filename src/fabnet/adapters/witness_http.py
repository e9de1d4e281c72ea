"""A witness reached over HTTP (c2sp.org/tlog-witness ``POST <prefix>/add-checkpoint``)."""

from __future__ import annotations

import httpx

from fabnet.domain.errors import ExternalSystemError


class HttpWitnessClient:
    def __init__(self, name: str, prefix: str, *, timeout_s: float = 10.0) -> None:
        self.name = name
        self.url = prefix.rstrip("/") + "/add-checkpoint"
        self.client = httpx.Client(timeout=timeout_s)

    def add_checkpoint(self, body: str) -> tuple[int, str]:
        try:
            response = self.client.post(self.url, content=body.encode())
        except httpx.HTTPError as exc:
            raise ExternalSystemError(f"witness {self.name}", str(exc)) from exc
        return response.status_code, response.text
