"""Settings: the only place that reads the environment (prefix ``FABNET_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FABNET_", extra="ignore")

    data_dir: Path = Field(
        default=Path(".fabnet"), description="where the SQLite file and designs live"
    )
    database_url: str = Field(default="", description="SQLAlchemy URL; empty = SQLite in data_dir")
    offer_ttl_s: float = Field(default=4 * 3600.0, gt=0)
    offer_sweep_s: float = Field(default=60.0, gt=0, description="how often `serve` expires offers")
    horizon_days: float = Field(default=30.0, gt=0, le=365)
    load_factor: float = Field(default=0.85, gt=0, le=1)
    solver: Literal["flow", "greedy"] = "flow"
    max_design_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    max_triangles: int = Field(default=2_000_000, gt=0)
    slicer: str = Field(default="prusa-slicer", description="the PrusaSlicer executable")
    slicer_timeout_s: float = Field(default=600.0, gt=0)
    price_rules: str = Field(
        default="",
        description='JSON {"maker": {"material_per_kg_minor": ..., "machine_per_hour_minor": '
        '..., "setup_minor": ..., "margin_pct": ..., "currency": "EUR"}, ...}; '
        "classes left out keep the placeholder defaults",
    )
    machine_envelope: str = Field(
        default="",
        description='JSON {"max_speed_factor": 4, "max_hours_per_day": 24, "max_build_mm": '
        "2000}: what a machine may declare (placeholders; domain/producers.py)",
    )
    escrow_policy: str = Field(
        default="",
        description='JSON {"max_penalty_cap_permille": 200, "min_arbiter_timeout_s": ..., '
        '"default_outcomes": {"standard": "release", "urgent": "release"}, ...}; '
        "keys left out keep the placeholder defaults (domain/escrow_policy.py)",
    )
    link_secret: str = Field(
        default="",
        description="signs producers' design links (>= 32 bytes); empty: data_dir/links.key",
    )
    log_key_file: Path | None = Field(
        default=None, description="the hub's log signing key; default data_dir/log.key (made once)"
    )
    log_origin: str = Field(default="fabnet.local/log", description="key name of a new log key")
    witnesses: str = Field(
        default="", description="comma-separated URL|verifier-key pairs of witnesses to ask"
    )
    witness_quorum: int = Field(default=1, ge=0)
    checkpoint_s: float = Field(default=1.0, gt=0, description="how often `serve` checkpoints")
    mqtt_url: str = Field(
        default="", description="the machines' broker, mqtt://host:port; empty = none"
    )
    mqtt_username: str = "hub"
    mqtt_password: str = ""
    heartbeat_timeout_s: float = Field(
        default=30.0, gt=0, description="a machine silent this long is marked unreachable"
    )
    heartbeat_sweep_s: float = Field(default=5.0, gt=0)
    max_body_bytes: int = Field(
        default=1 << 20, gt=0, description="largest request body but uploads (413 beyond)"
    )
    auth_cache_s: float = Field(
        default=2.0, ge=0, description="how long a replica trusts a key it looked up"
    )
    rate_per_s: float = Field(default=50.0, gt=0, description="requests per second per key")
    rate_burst: float = Field(default=100.0, ge=1, description="requests a key may burst")
    max_open_units_per_consumer: int = Field(
        default=1_000_000, gt=0, description="units a consumer may have ordered and not received"
    )
    anomaly_action: Literal["ask_photo", "pause"] = Field(
        default="ask_photo",
        description="what a telemetry anomaly flag does: ask the maker for a photo, or pause",
    )
    anomaly_rules: str = Field(
        default="", description='JSON {"temp_band_c": 15, "stall_s": 600, ...}; empty: defaults'
    )
    transit: str = Field(
        default="",
        description="JSON [[up to km, days], ...]: days on the way by distance, nearest "
        "first; empty: [[50, 0], [800, 1], [2000, 2], [20040, 10]] (planning/costs.py)",
    )
    probation: str = Field(
        default="",
        description='JSON {"jobs": 5, "units_per_job": 10, "graduate_at": 0.8}: the terms a '
        "newly qualified machine starts on (placeholders; domain/reliability.py)",
    )
    coupon_tolerances: str = Field(
        default="",
        description='JSON {"fdm": {"outer": [0.3, 0.3], "holes": [0.4, 0.2], "walls": '
        '[0.15, 0.25]}, "fdm/TPU": {...}}: mm below/above nominal of the test coupon '
        "(placeholders; fabrication/qualification.py)",
    )
    logistics: str = Field(
        default="",
        description='JSON {"weights": {"value_of_time_per_h": 100, "co2_price_per_kg": 100}, '
        '"local_radius_km": 40, "consolidation": 0.092, "budget_s": 2, "airspace": '
        '<GeoJSON FeatureCollection>, "modes": {"cargo_bike": {"co2_kg_per_km": ...}}}; '
        "empty: defaults (routing/dispatch.py; placeholders named in docs/logistics.md)",
    )
    routing_interval_s: float = Field(
        default=900.0, gt=0, description="seconds between the hub's routing waves"
    )
    routing_gap_s: float = Field(
        default=60.0,
        gt=0,
        description="the least seconds between two waves: parcels made ready wake one",
    )
    request_threads: int = Field(
        default=8, ge=1, le=200, description="threads that run requests (per process)"
    )
    heavy_workers: int = Field(
        default=2, ge=1, le=64, description="threads for mesh analysis, slicing, planning, proofs"
    )
    heavy_per_key: int = Field(
        default=1, ge=1, description="heavy requests one key may run at once"
    )
    heavy_timeout_s: float = Field(default=300.0, gt=0, description="a heavy request's time limit")
    run_hub: bool = Field(default=True, description="serve runs the hub's background work")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'fabnet.sqlite'}"
