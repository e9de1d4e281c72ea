"""ISO 2859-1 single sampling, normal inspection, level II, against the published values
(../shared/reference/figures.md section 5, copied to tests/data/reference; from
MIL-STD-105E Tables I and II-A)."""

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabnet.domain.errors import InvalidInput
from fabnet.fabrication.sampling import AQLS, SAMPLE_SIZE, code_letter, single_normal

FIGURES = Path(__file__).resolve().parents[2] / "data" / "reference" / "iso2859-1-level2-normal.md"


def published() -> dict[tuple[str, float], tuple[int, int, int]]:
    """The resolved plan table of figures.md section 5, read from the file itself."""
    text = FIGURES.read_text(encoding="utf-8")
    section = text.split("## 5.")[1].split("## 6.")[0]
    header = next(line for line in section.splitlines() if line.startswith("| Letter (own n)"))
    aqls = [float(a) for a in re.findall(r"AQL ([0-9.]+)", header)]
    table = {}
    for line in section.splitlines():
        row = re.match(r"^\| ([A-Q]) \((\d+)\) \|(.*)\|$", line)
        if not row:
            continue
        letter, own_n = row.group(1), int(row.group(2))
        assert SAMPLE_SIZE[letter] == own_n
        cells = row.group(3).split("|")
        for aql, cell in zip(aqls, cells, strict=True):
            n, ac, re_ = (int(x) for x in re.search(r"(\d+)/(\d+)/(\d+)", cell).groups())
            table[(letter, aql)] = (n, ac, re_)
    return table


PUBLISHED = published()


def test_the_whole_published_table_is_read():
    assert len(PUBLISHED) == 15 * 4 and set(AQLS) == {0.65, 1.0, 2.5, 4.0}


@pytest.mark.parametrize(("letter", "aql"), sorted(PUBLISHED))
def test_every_published_plan(letter, aql):
    lot = {"A": 8, "B": 15, "C": 25, "D": 50, "E": 90, "F": 150, "G": 280, "H": 500}.get(
        letter, 10**7
    )
    lot = {"J": 1200, "K": 3200, "L": 10_000, "M": 35_000, "N": 150_000, "P": 500_000}.get(
        letter, lot
    )
    plan = single_normal(lot, aql)
    n, ac, re_ = PUBLISHED[(letter, aql)]
    assert plan.code_letter == letter
    assert (plan.accept, plan.reject) == (ac, re_)
    assert plan.sample_size == min(n, lot) and plan.full_inspection == (n >= lot)


@pytest.mark.parametrize(
    ("lot", "aql", "expected"),
    [(1000, 2.5, ("J", 80, 5, 6)), (3000, 1.0, ("K", 125, 3, 4)), (100, 4.0, ("F", 20, 2, 3))],
)
def test_the_worked_examples(lot, aql, expected):
    plan = single_normal(lot, aql)
    assert (plan.code_letter, plan.sample_size, plan.accept, plan.reject) == expected


def test_a_plan_larger_than_the_lot_inspects_every_unit():
    plan = single_normal(10, 0.65)  # B, the arrow leads to n = 20
    assert (plan.sample_size, plan.full_inspection, plan.accept) == (10, True, 0)


@pytest.mark.parametrize(
    ("lot", "letter"),
    [(2, "A"), (8, "A"), (9, "B"), (280, "G"), (281, "H"), (500, "H"), (501, "J"),
     (500_000, "P"), (500_001, "Q")],
)  # fmt: skip
def test_code_letter_edges(lot, letter):
    assert code_letter(lot) == letter


@pytest.mark.parametrize(("lot", "aql", "field"), [(0, 1.0, "lot_size"), (100, 1.5, "aql")])
def test_bad_input_names_the_field(lot, aql, field):
    with pytest.raises(InvalidInput) as caught:
        single_normal(lot, aql)
    assert caught.value.field == field


@given(st.integers(1, 10**7), st.sampled_from(AQLS))
def test_plans_are_consistent(lot, aql):
    plan = single_normal(lot, aql)
    assert 1 <= plan.sample_size <= lot
    assert plan.reject == plan.accept + 1
    assert plan.accepts(plan.accept) and not plan.accepts(plan.reject)
