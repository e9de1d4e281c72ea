"""Places as people write them (the spellings come from the IoPA's fablabs.io export)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabnet.adapters.gazetteer import Gazetteer, distance, fold


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer()


@pytest.mark.parametrize(
    ("text", "country", "name"),
    [
        ("Colleferro  (RM)", "IT", "Colleferro"),
        ("KOUROU", "GF", "Kourou"),
        ("København V", "DK", "Copenhagen"),
        ("Saint-Pierre cedex", "RE", "Saint-Pierre"),
        ("Bloomfield hills", "US", "Bloomfield Hills"),  # a town of 4,000: the second tier
        ("Tel Aviv-Yafo", "IL", "Tel Aviv"),
        ("Chania, Crete", "GR", "Chaniá"),
        ("İstanbul", "TR", "Istanbul"),
        ("Béni Mellal", "MA", "Beni Mellal"),
        ("Niksic", "ME", "Nikšić"),
        (" Praha", "Czechia", "Prague"),
        ("Munchen", "Germany", "Munich"),
    ],
)
def test_places_are_found_as_written(gaz, text, country, name):
    found = gaz.find(text, country)
    assert found is not None and found.city.name == name
    assert found.confidence >= 0.9


def test_a_misspelling_is_found_with_a_lower_confidence(gaz):
    found = gaz.find("cario", "EG")
    assert found is not None and found.city.name == "Cairo"
    assert 0 < found.confidence < 0.9 and found.how == "edit distance 1"


@pytest.mark.parametrize(
    ("text", "country"),
    [("Xyzzyville", "FR"), ("", "US"), ("Paris", "Atlantis"), ("Rma", "IT")],
)
def test_what_is_not_a_place_is_not_found(gaz, text, country):
    assert gaz.find(text, country) is None


def test_without_a_country_the_most_populous_match_wins(gaz):
    found = gaz.find("paris")
    assert found is not None and found.city.country == "FR"


def test_a_country_alone_gives_its_capital_with_no_confidence(gaz):
    found = gaz.capital("UY")
    assert found is not None and found.city.name == "Montevideo" and found.confidence == 0


def test_fold_ignores_case_accents_and_separators():
    assert fold("  Saint-Étienne ") == fold("saint etienne") == "saint etienne"


def _reference_osa(a: str, b: str) -> int:
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


@given(st.text("abcr", max_size=8), st.text("abcr", max_size=8), st.integers(0, 3))
def test_bounded_distance_agrees_with_the_full_table(a, b, limit):
    full = _reference_osa(a, b)
    assert distance(a, b, limit) == (full if full <= limit else limit + 1)


def test_destinations_search_only_the_cities_of_15000_so_no_request_loads_the_big_table():
    from fabnet.adapters.places import _gazetteer, resolve_place
    from fabnet.domain.errors import InvalidInput

    assert resolve_place("munchen", "DE", "destination")[0] == pytest.approx(48.14, abs=0.05)
    with pytest.raises(InvalidInput) as caught:
        resolve_place("Bloomfield Hills", "US", "lines[0].destination")  # 4,000 people
    assert caught.value.field == "lines[0].destination.city"
    assert 1000 not in _gazetteer()._tiers  # the table of small towns was never loaded
