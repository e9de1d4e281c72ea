"""The one registry of aggregates: each with its unit-of-work attribute, row mapping
(adapters/rows.py, logistics_rows.py), repository of named queries
(adapters/repositories.py) and unique keys. Both stores and the tracking unit of work
are driven by it, so a new aggregate is its domain class, one mapper (and repository)
here, one table and one migration."""

from __future__ import annotations

from fabnet.adapters import repositories as repos
from fabnet.adapters.logistics_rows import COURIERS, SHIPMENTS, WEATHER
from fabnet.adapters.rows import (
    API_KEYS,
    DESIGNS,
    JOBS,
    MACHINES,
    ORDERS,
    PRODUCERS,
)
from fabnet.adapters.tracking import Kind

# parents before children, so that foreign keys hold at every insert
KINDS: tuple[Kind, ...] = (
    Kind("producers", PRODUCERS, repos.Producers, (("external_ref",),)),
    Kind("machines", MACHINES, repos.Machines),
    Kind("designs", DESIGNS, repos.Designs),
    Kind("orders", ORDERS, repos.Orders, (("consumer_id", "reference"),)),
    Kind("jobs", JOBS, repos.Jobs),
    Kind("api_keys", API_KEYS, repos.ApiKeys, (("key_hash",),)),
    Kind("couriers", COURIERS, repos.Couriers),
    Kind("shipments", SHIPMENTS, repos.Shipments),
    Kind("weather", WEATHER, repos.WeatherSwitches),
)
