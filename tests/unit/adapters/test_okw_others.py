"""OKW records as other projects write them, and the IoPA's own export of fablabs.io."""

import json
from pathlib import Path

import pytest

from fabnet.adapters.gazetteer import Gazetteer
from fabnet.adapters.okw import OkwReader, load_records
from fabnet.adapters.okw_export import export_records
from fabnet.adapters.okw_iopa import load_iopa_machines
from fabnet.domain.errors import InvalidInput

IOPA = Path(__file__).resolve().parents[2] / "data" / "okw-iopa"
FACILITIES = IOPA / "preliminary_iop_okw_fac_source_01.sample300.json"
MACHINES = IOPA / "mvp_machinery.sample300.csv"


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer()


def printer(**extra):
    return {
        "manufacturing-process": "fdm",
        "build-volume": [200, 200, 200],
        "materials-worked": ["PLA"],
        **extra,
    }


def test_every_problem_of_a_record_is_reported_with_its_id_and_name(gaz):
    record = {
        "id": "lab-7",
        "name": "Lab Seven",
        "location": {"gps-coordinates": "95, 200"},
        "facilityStatus": "Sleeping",
        "equipment": [
            printer(**{"materials-worked": ["PLAA", "CHEESE"]}),
            printer(**{"build-volume": "1 x 2"}),
        ],
    }
    result = OkwReader(gaz).read([record])
    assert not result.good
    assert [(e.index, e.ref, e.name, e.field) for e in result.bad] == [
        (0, "lab-7", "Lab Seven", "location.gps-coordinates"),
        (0, "lab-7", "Lab Seven", "location.gps-coordinates"),
        (0, "lab-7", "Lab Seven", "facilityStatus"),
        (0, "lab-7", "Lab Seven", "equipment[0].materials-worked[0]"),
        (0, "lab-7", "Lab Seven", "equipment[0].materials-worked[1]"),
        (0, "lab-7", "Lab Seven", "equipment[1].build-volume"),
    ]
    assert "record 0 (lab-7 'Lab Seven'): facilityStatus" in str(result.bad[2])


def test_equipment_fabnet_cannot_plan_on_is_kept_and_never_sinks_the_facility(gaz):
    record = {
        "name": "Makerspace",
        "location": {"lat": 50.1, "lon": 8.7},
        "equipment": [
            {"manufacturing-process": "https://en.wikipedia.org/wiki/Welding", "name": "TIG"},
            {"manufacturing-process": "post_processing", "name": "wash station"},
            {"manufacturing-process": "knitting", "name": "Brother KH-930"},
            printer(
                **{
                    "manufacturing-process": "https://en.wikipedia.org/wiki/Fused_filament_fabrication"
                }
            ),
        ],
    }
    result = OkwReader(gaz).read([record])
    ((_, spec),) = result.good
    assert [m.process for m in spec.machines] == ["fdm"]
    assert spec.extra["other_equipment"].split("\n") == [
        "welding: TIG",
        "post_processing: wash station",
        "knitting: Brother KH-930",
    ]
    assert [w.field for w in result.warnings] == [
        "equipment[0].manufacturing-process",
        "equipment[1].manufacturing-process",
        "equipment[2].manufacturing-process",
    ]


def test_a_known_model_without_a_build_volume_takes_the_table_row(gaz):
    record = {
        "name": "Home",
        "location": {"lat": 50.1, "lon": 8.7},
        "equipment": [{"equipment-type": "3D printer", "make": "Original Prusa", "model": "MINI"}],
    }
    result = OkwReader(gaz).read([record])
    ((_, spec),) = result.good
    (m,) = spec.machines
    assert (m.build_volume_mm, m.unverified) == ((180, 180, 180), "")
    assert "PLA" in m.materials
    assert any("PrusaSlicer profiles PrusaResearch.ini" in w.reason for w in result.warnings)


def test_an_unknown_model_without_a_build_volume_is_imported_unverified(gaz):
    record = {
        "name": "Home",
        "location": {"lat": 50.1, "lon": 8.7},
        "equipment": [{"manufacturing-process": "3DP", "make": "Acme", "model": "Printomatic"}],
    }
    ((_, spec),) = OkwReader(gaz).read([record]).good
    (m,) = spec.machines
    assert m.build_volume_mm is None
    assert m.unverified == "build volume not known; materials not given"


def test_a_resin_make_is_not_planned_as_fdm(gaz):
    record = {
        "name": "Lab",
        "location": {"lat": 50.1, "lon": 8.7},
        "equipment": [{"equipment-type": "three_d_printer", "make": "formlabs", "model": "form 2"}],
    }
    ((_, spec),) = OkwReader(gaz).read([record]).good
    assert [m.process for m in spec.machines] == ["sla"]


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"facility-type": "Fab Lab"}, "fablab"),
        ({"facility-type": "Makerspace"}, "fablab"),
        ({"producer-class": "factory"}, "factory"),
        ({"website": "https://www.fablabs.io/labs/x"}, "fablab"),
        ({}, "maker"),
    ],
)
def test_the_facility_class_comes_from_the_record(gaz, record, expected):
    record = {"name": "X", "location": {"lat": 1, "lon": 2}, **record}
    ((_, spec),) = OkwReader(gaz).read([record]).good
    assert spec.producer_class == expected


def test_coordinates_win_over_an_address(gaz):
    record = {
        "name": "X",
        "location": {"lat": 1.5, "lon": 2.5, "address": {"locality": "Nowhereville"}},
    }
    result = OkwReader(gaz).read([record])
    ((_, spec),) = result.good
    assert (spec.lat, spec.lon) == (1.5, 2.5) and not result.warnings


def test_a_place_known_only_by_country_is_kept_but_not_planned_on(gaz):
    record = {
        "name": "X",
        "location": {"address": {"locality": "", "country": "UY"}},
        "equipment": [printer()],
    }
    result = OkwReader(gaz).read([record])
    ((_, spec),) = result.good
    assert spec.extra["located"] == "country only: Montevideo, UY"
    assert all(m.unverified for m in spec.machines)
    assert any("capital" in w.reason for w in result.warnings)


def test_the_iopa_machine_list_needs_its_columns():
    with pytest.raises(InvalidInput, match="columns missing: lab"):
        load_iopa_machines("name,brand,class_1\nx,y,z\n")


def test_the_iopa_export_imports_every_facility_and_machine(gaz):
    """300 real fablabs.io records (47 without coordinates, messy city names) and the IoPA's
    machine list for them (263 rows): nothing refused, every row kept."""
    records = load_records(FACILITIES.read_text(), "json")
    machines = load_iopa_machines(MACHINES.read_text())
    result = OkwReader(gaz, machines).read(records)
    assert (len(result.good), result.bad) == (300, [])
    specs = [spec for _, spec in result.good]
    kept = sum(len(s.machines) for s in specs) + sum(
        len(s.extra.get("other_equipment", "").split("\n"))
        for s in specs
        if s.extra.get("other_equipment")
    )
    assert kept == 263
    assert all(s.producer_class == "fablab" for s in specs)
    assert len({s.external_ref for s in specs}) == 300
    assert sum(result.located.values()) == 47
    # the same input reads to the same facilities (re-import changes nothing)
    again = OkwReader(gaz, machines).read(load_records(FACILITIES.read_text(), "json"))
    assert again.good == result.good


def test_an_export_reads_back_with_its_other_equipment_and_unverified_machines(gaz):
    from fabnet.services.producers import build_machine, build_producer

    record = {
        "id": "lab",
        "name": "Lab",
        "location": {"lat": 50.1, "lon": 8.7},
        "equipment": [
            {"manufacturing-process": "vinyl_cutting", "name": "cameo"},
            {"manufacturing-process": "3DP", "make": "Acme", "model": "P1"},
            printer(name="known"),
        ],
    }
    ((_, spec),) = OkwReader(gaz).read([record]).good
    producer = build_producer(spec, ident="prd_1")
    machines = [
        build_machine(m, ident=f"mch_{i}", producer_id="prd_1", field="m")
        for i, m in enumerate(spec.machines)
    ]
    exported = json.loads(json.dumps(export_records([producer], machines)))
    ((_, back),) = OkwReader(gaz).read(exported).good
    assert back.extra["other_equipment"] == spec.extra["other_equipment"]
    assert sorted((m.name, m.build_volume_mm, bool(m.unverified)) for m in back.machines) == [
        ("Acme P1", None, True),
        ("known", (200, 200, 200), False),
    ]


def test_the_open_hardware_managers_okw_json_shape_reads(gaz):
    """Its field names (snake case), Wikipedia URLs for processes and materials, and a
    build volume given as one number (a volume, not three sizes)."""
    record = {
        "id": "0b7c",
        "name": "Print Shop 1",
        "location": {
            "address": {"street": "Main St", "city": "Lyon", "country": "France"},
            "gps_coordinates": "45.76, 4.84",
        },
        "facility_status": "Active",
        "equipment": [
            {
                "equipment_type": "https://en.wikipedia.org/wiki/3D_printer",
                "manufacturing_process": "https://en.wikipedia.org/wiki/Fused_filament_fabrication",
                "make": "Original Prusa",
                "model": "MINI",
                "materials_worked": [
                    {"material_type": "https://en.wikipedia.org/wiki/PLA"},
                    {"material_type": "https://en.wikipedia.org/wiki/PETG"},
                ],
                "build_volume": 5832000,
                "nozzle_size": 0.6,
            },
            {
                "equipment_type": "https://en.wikipedia.org/wiki/SLA_printer",
                "manufacturing_process": "https://en.wikipedia.org/wiki/SLA_printer",
                "make": "Brand A",
                "model": "Model 1",
            },
        ],
    }
    result = OkwReader(gaz).read([record])
    ((_, spec),) = result.good
    prusa, resin = spec.machines
    assert (prusa.process, prusa.materials, prusa.build_volume_mm) == (
        "fdm",
        ("PLA", "PETG"),
        (180, 180, 180),
    )
    assert (resin.process, resin.unverified) == (
        "sla",
        "build volume not known; materials not given",
    )
    assert any("one number" in w.reason for w in result.warnings)


def test_a_machine_list_saved_with_a_bom_reads():
    rows = load_iopa_machines(
        "\ufeffname,brand,class_1,lab\nmini,original prusa,three_d_printer,X\n"
    )
    assert rows == {
        "X": [{"name": "mini", "brand": "original prusa", "class_1": "three_d_printer", "lab": "X"}]
    }


def test_a_facility_with_too_much_equipment_is_refused_not_imported_slowly(gaz):
    from fabnet.adapters.okw import MAX_EQUIPMENT

    record = {
        "name": "Huge",
        "location": {"lat": 1, "lon": 2},
        "equipment": [printer()] * (MAX_EQUIPMENT + 1),
    }
    result = OkwReader(gaz).read([record])
    assert not result.good and [e.field for e in result.bad] == ["equipment"]
