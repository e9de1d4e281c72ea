import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabnet.domain.errors import InvalidInput
from fabnet.domain.units import Box, Money, Place

lats = st.floats(-90, 90, allow_nan=False)
lons = st.floats(-180, 180, allow_nan=False)


def test_distance_berlin_to_munich_is_about_504_km():
    berlin, munich = Place(52.5200, 13.4050), Place(48.1351, 11.5820)
    assert berlin.distance_km(munich) == pytest.approx(504, abs=3)


@given(lats, lons, lats, lons)
def test_distance_is_symmetric_and_bounded(a_lat, a_lon, b_lat, b_lon):
    a, b = Place(a_lat, a_lon), Place(b_lat, b_lon)
    assert a.distance_km(b) == pytest.approx(b.distance_km(a), abs=1e-6)
    assert 0 <= a.distance_km(b) <= math.pi * 6371.0088 + 1e-6


@pytest.mark.parametrize(
    ("lat", "lon", "field"), [(91, 0, "lat"), (0, 181, "lon"), (math.nan, 0, "lat")]
)
def test_place_out_of_range_names_the_field(lat, lon, field):
    with pytest.raises(InvalidInput) as err:
        Place(lat, lon)
    assert err.value.field == field


def test_box_fits_when_rotated():
    assert Box(200, 10, 100).fits_in(Box(100, 200, 20))
    assert not Box(300, 10, 10).fits_in(Box(250, 210, 210))


def test_box_refuses_negative_sizes():
    with pytest.raises(InvalidInput, match="y_mm"):
        Box(1, -1, 1)


def test_money_adds_in_one_currency_only():
    assert Money(150) + Money(50) == Money(200)
    with pytest.raises(InvalidInput, match="currency"):
        Money(1, "EUR") + Money(1, "USD")
    with pytest.raises(InvalidInput):
        Money(1, "euro")
