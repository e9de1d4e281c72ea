"""Quotes over HTTP (and in the CLI's --json): one shape for both."""

from __future__ import annotations

from pydantic import BaseModel, Field

from fabnet.domain.units import Money
from fabnet.services.quotes import ClassOption, Quote


class MoneyOut(BaseModel):
    amount_minor: int
    currency: str

    @classmethod
    def of(cls, m: Money | None) -> MoneyOut | None:
        return None if m is None else cls(amount_minor=m.minor, currency=m.currency)


class OrientationOut(BaseModel):
    name: str
    up: tuple[float, float, float]
    size_mm: tuple[float, float, float]
    overhang_area_mm2: float


class OptionOut(BaseModel):
    producer_class: str
    producers: int
    machines: int
    price: MoneyOut | None  # the lowest price in the class
    price_median: MoneyOut | None
    lead_time_days: int | None
    supports_needed: bool
    co2_kg: float = Field(
        description="kg CO2e of printing electricity for the quantity (189.5 W average "
        "draw x the grid's factor; the material's footprint and the way are not in it)"
    )

    @classmethod
    def of(cls, o: ClassOption) -> OptionOut:
        return cls(
            producer_class=o.producer_class.value,
            producers=o.producers,
            machines=o.machines,
            price=MoneyOut.of(o.price_min),
            price_median=MoneyOut.of(o.price_median),
            lead_time_days=o.lead_time_days,
            supports_needed=o.supports_needed,
            co2_kg=o.co2_kg,
        )


class QuoteOut(BaseModel):
    media_type: str
    triangles: int
    watertight: bool
    winding_consistent: bool
    volume_mm3: float
    area_mm2: float
    bbox_mm: tuple[float, float, float]
    shells: int
    degenerate_faces: int
    min_wall_mm: float | None
    repairs: list[str]
    warnings: list[str]
    orientations: list[OrientationOut]
    material: str
    quantity: int
    profile: str
    layers: int
    print_time_s: float  # fast estimate, one unit, reference FDM profile
    filament_g: float
    filament_mm: float
    slicer: str | None
    slicer_print_time_s: float | None
    slicer_filament_g: float | None
    machines_checked: int
    machines_able: int
    unprintable_reasons: dict[str, int]
    options: list[OptionOut]

    @classmethod
    def of(cls, q: Quote) -> QuoteOut:
        f = q.facts
        return cls(
            media_type=f.media_type,
            triangles=f.triangles,
            watertight=f.watertight,
            winding_consistent=f.winding_consistent,
            volume_mm3=round(f.volume_mm3, 3),
            area_mm2=round(f.area_mm2, 3),
            bbox_mm=(round(f.bbox_mm[0], 3), round(f.bbox_mm[1], 3), round(f.bbox_mm[2], 3)),
            shells=f.shells,
            degenerate_faces=f.degenerate_faces,
            min_wall_mm=None if f.min_wall_mm is None else round(f.min_wall_mm, 3),
            repairs=list(f.repairs),
            warnings=list(q.warnings),
            orientations=[
                OrientationOut(
                    name=o.name,
                    up=o.up,
                    size_mm=o.size_mm,
                    overhang_area_mm2=round(o.overhang_area_mm2, 2),
                )
                for o in f.orientations
            ],
            material=q.material,
            quantity=q.quantity,
            profile=q.profile.name,
            layers=q.estimate.layers,
            print_time_s=round(q.estimate.print_time_s, 1),
            filament_g=round(q.estimate.filament_g, 2),
            filament_mm=round(q.estimate.filament_mm, 1),
            slicer=q.slicer,
            slicer_print_time_s=q.slicer_print_time_s,
            slicer_filament_g=q.slicer_filament_g,
            machines_checked=q.machines_checked,
            machines_able=q.machines_able,
            unprintable_reasons=q.unprintable_reasons,
            options=[OptionOut.of(o) for o in q.options],
        )
