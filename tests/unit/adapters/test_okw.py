import json

import pytest

from fabnet.adapters.gazetteer import Gazetteer
from fabnet.adapters.okw import OkwReader, load_records
from fabnet.adapters.okw_export import export_records
from fabnet.domain.capabilities import Process
from fabnet.domain.errors import InvalidInput
from fabnet.domain.ids import MachineId, ProducerId
from fabnet.domain.producers import Machine, Producer
from fabnet.domain.states import FacilityStatus
from fabnet.domain.units import Box, Place


@pytest.fixture(scope="module")
def reader() -> OkwReader:
    return OkwReader(Gazetteer())


GOOD = {
    "id": "fablab-berlin",
    "name": "FabLab Berlin",
    "location": {"gps-coordinates": "52.5366, 13.4227", "address": {"locality": "Berlin"}},
    "facilityStatus": "Active",
    "certifications": ["ISO 9001"],
    "equipment": [
        {
            "equipment-type": "3D printer",
            "manufacturing-process": "3D Printing",
            "make": "Prusa",
            "model": "MK4",
            "build-volume": "250 x 210 x 220",
            "materials-worked": ["PLA", {"name": "PETG"}],
            "nozzle-size": 0.4,
        }
    ],
}


def test_a_full_record_is_read(reader):
    ((index, spec),) = reader.read([GOOD])[0]
    assert index == 0
    assert (spec.name, spec.external_ref, spec.status) == (
        "FabLab Berlin",
        "fablab-berlin",
        FacilityStatus.ACTIVE,
    )
    assert (spec.lat, spec.lon) == (52.5366, 13.4227)
    (m,) = spec.machines
    assert (m.process, m.materials, m.build_volume_mm, m.nozzle_mm) == (
        "fdm",
        ("PLA", "PETG"),
        (250, 210, 220),
        0.4,
    )


def test_an_address_without_coordinates_is_placed_at_its_city(reader):
    record = {
        "name": "Shop",
        "location": {"address": {"locality": "München", "country": "Germany"}},
    }
    ((_, spec),) = reader.read([record])[0]
    assert spec.lat == pytest.approx(48.14, abs=0.05) and spec.lon == pytest.approx(11.58, abs=0.05)
    assert spec.external_ref.startswith("okw:")


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"location": {"gps-coordinates": "1, 2"}}, "name"),
        ({"name": "x"}, "location"),
        ({"name": "x", "location": {"gps-coordinates": "95, 2"}}, "location.gps-coordinates"),
        ({"name": "x", "location": {"address": {"locality": "Nowhereville"}}}, "location.address"),
        (
            {"name": "x", "location": {"lat": 1, "lon": 2}, "facilityStatus": "Sleeping"},
            "facilityStatus",
        ),
        (
            {
                "name": "x",
                "location": {"lat": 1, "lon": 2},
                "equipment": [
                    {
                        "manufacturing-process": "fdm",
                        "materials-worked": ["PLA"],
                        "build-volume": "1 x 2",
                    }
                ],
            },
            "equipment[0].build-volume",
        ),
        (
            {
                "name": "x",
                "location": {"lat": 1, "lon": 2},
                "equipment": [
                    {
                        "manufacturing-process": "fdm",
                        "materials-worked": ["PLAA"],
                        "build-volume": [1, 2, 3],
                    }
                ],
            },
            "equipment[0].materials-worked[0]",
        ),
        ("just a string", "record"),
    ],
)
def test_invalid_records_are_reported_with_index_and_field(reader, record, field):
    good, bad, _, _ = reader.read([GOOD, record])
    assert len(good) == 1
    assert [(e.index, e.field) for e in bad] == [(1, field)]


def test_load_records_accepts_a_wrapped_list_and_rejects_junk():
    assert load_records(json.dumps({"facilities": [GOOD]}), "json") == [GOOD]
    assert load_records("- name: a\n", "yaml") == [{"name": "a"}]
    with pytest.raises(InvalidInput, match="not valid JSON"):
        load_records("{nope", "json")
    with pytest.raises(InvalidInput, match="list"):
        load_records("42", "yaml")


def test_export_reads_back_to_the_same_facility(reader):
    producer = Producer(
        id=ProducerId("prd_1"),
        name="Maker",
        place=Place(48.1, 11.5),
        certifications=("ISO 13485",),
        external_ref="ext-1",
    )
    machine = Machine(
        id=MachineId("mch_1"),
        producer_id=ProducerId("prd_1"),
        name="p1",
        process=Process.FDM,
        build_volume=Box(200, 200, 180),
        materials=("PETG",),
        nozzle_mm=0.6,
        hours_per_day=12,
        speed_factor=1.5,
    )
    records = export_records([producer], [machine])
    ((_, spec),) = reader.read(json.loads(json.dumps(records)))[0]
    assert (spec.name, spec.external_ref, spec.lat, spec.lon, spec.certifications) == (
        "Maker",
        "ext-1",
        48.1,
        11.5,
        ("ISO 13485",),
    )
    (m,) = spec.machines
    assert (
        m.name,
        m.materials,
        m.build_volume_mm,
        m.nozzle_mm,
        m.hours_per_day,
        m.speed_factor,
    ) == ("p1", ("PETG",), (200, 200, 180), 0.6, 12, 1.5)
