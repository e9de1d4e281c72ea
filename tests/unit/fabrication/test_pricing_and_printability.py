"""Pricing rules, printability verdicts, the fast estimate's shape, lead times."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabnet.domain.errors import InvalidInput
from fabnet.domain.pricing import PriceRule, parse_producer_class
from fabnet.fabrication.estimate import estimate
from fabnet.fabrication.meshes import LayerSample, MeshFacts, Orientation
from fabnet.fabrication.printability import assess
from fabnet.fabrication.profiles import REFERENCE

RULE = PriceRule(material_per_kg_minor=2500, machine_per_hour_minor=120, setup_minor=300)


@given(
    st.floats(0, 5000, allow_nan=False),
    st.floats(1, 10 * 86400, allow_nan=False),
    st.integers(1, 10_000),
    st.floats(0, 100),
)
def test_a_price_is_the_exact_cost_rounded_once(grams, seconds, qty, margin):
    rule = replace(RULE, margin_pct=margin)
    price = rule.price(filament_g=grams, print_time_s=seconds, quantity=qty)
    exact = (Fraction(grams) * qty * 2500 / 1000 + Fraction(seconds) * qty * 120 / 3600 + 300) * (
        1 + Fraction(margin) / 100
    )
    assert abs(price.minor - exact) <= Fraction(1, 2)
    more = rule.price(filament_g=grams, print_time_s=seconds, quantity=qty + 1)
    assert more.minor >= price.minor


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"machine_per_hour_minor": 1}, "pricing.material_per_kg_minor"),
        (
            {"material_per_kg_minor": -1, "machine_per_hour_minor": 1},
            "pricing.material_per_kg_minor",
        ),
        (
            {"material_per_kg_minor": 1, "machine_per_hour_minor": 1.5},
            "pricing.machine_per_hour_minor",
        ),
        (
            {"material_per_kg_minor": 1, "machine_per_hour_minor": 1, "margin_pct": -3},
            "pricing.margin_pct",
        ),
        (
            {"material_per_kg_minor": 1, "machine_per_hour_minor": 1, "currency": "euro"},
            "pricing.currency",
        ),
        ({"material_per_kg_minor": 1, "machine_per_hour_minor": 1, "tip": 5}, "pricing.tip"),
    ],
)
def test_bad_pricing_rules_name_the_field(raw, field):
    with pytest.raises(InvalidInput) as caught:
        PriceRule.from_dict(raw)
    assert caught.value.field == field


def test_producer_classes_parse_and_refuse_unknown_ones():
    assert parse_producer_class(" FabLab ").value == "fablab"
    with pytest.raises(InvalidInput, match="known: maker, fablab, factory"):
        parse_producer_class("guild")


def facts(size=(40.0, 30.0, 20.0), overhang=0.0, min_wall=None) -> MeshFacts:
    x, y, z = size
    upright = Orientation("z up", (0, 0, 1), size, overhang)
    lying = Orientation("x up", (1, 0, 0), (y, z, x), 0.0)
    return MeshFacts(
        media_type="model/stl",
        triangles=12,
        watertight=True,
        winding_consistent=True,
        volume_mm3=x * y * z,
        area_mm2=2 * (x * y + y * z + x * z),
        bbox_mm=size,
        shells=1,
        degenerate_faces=0,
        wall_area_mm2=2 * (x + y) * z,
        up_area_mm2=x * y,
        down_area_mm2=x * y,
        bed_area_mm2=x * y,
        footprint_perimeter_mm=2 * (x + y),
        min_wall_mm=min_wall,
        orientations=(upright, lying),
        layers=tuple(LayerSample(z * (i + 0.5) / 8, x * y, (2 * (x + y),)) for i in range(8)),
    )


def test_a_part_that_fits_only_on_its_side_is_printable_lying_down():
    verdict = assess(
        facts((40, 30, 250)),
        build_mm=(260, 260, 200),
        nozzle_mm=0.4,
        materials=("PLA",),
        material="PLA",
    )
    assert verdict.printable
    assert verdict.orientation is not None and verdict.orientation.name == "x up"


def test_too_big_wrong_material_supports_and_thin_walls_are_reasons():
    big = assess(
        facts((400, 30, 20)),
        build_mm=(200, 200, 200),
        nozzle_mm=0.4,
        materials=("PLA",),
        material="PLA",
    )
    assert not big.printable and "does not fit" in big.reasons[0]
    petg = assess(
        facts(), build_mm=(200, 200, 200), nozzle_mm=0.4, materials=("PLA",), material="PETG"
    )
    assert not petg.printable and not petg.material_ok
    hang = assess(
        facts(overhang=50.0),
        build_mm=(45, 45, 25),
        nozzle_mm=0.4,
        materials=("PLA",),
        material="PLA",
    )
    assert hang.printable and hang.supports_needed  # only the upright way fits
    thin = assess(
        facts(min_wall=0.5),
        build_mm=(200, 200, 200),
        nozzle_mm=0.4,
        materials=("PLA",),
        material="PLA",
    )
    assert thin.printable and thin.thin_walls and any("thin walls" in r for r in thin.reasons)


def test_the_estimate_grows_with_infill_and_shrinks_with_thicker_layers():
    part = facts((60, 60, 40))
    base = estimate(part, REFERENCE)
    dense = estimate(part, replace(REFERENCE, infill_density=0.8))
    coarse = estimate(part, replace(REFERENCE, layer_height_mm=0.4, first_layer_height_mm=0.4))
    assert dense.filament_g > base.filament_g and dense.print_time_s > base.print_time_s
    assert coarse.layers < base.layers and coarse.print_time_s < base.print_time_s
    assert base.filament_g == pytest.approx(
        base.filament_mm * 3.14159 * 0.875**2 * 1.24e-3, rel=1e-3
    )


def test_profiles_refuse_impossible_settings():
    with pytest.raises(InvalidInput) as caught:
        replace(REFERENCE, layer_height_mm=0.6)  # thicker than the 0.4 mm nozzle
    assert caught.value.field == "layer_height_mm"
