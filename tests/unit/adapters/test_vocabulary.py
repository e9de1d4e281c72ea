"""Process, material and printer-model identifiers as other projects write them."""

import configparser
from pathlib import Path

import pytest

from fabnet.adapters import vocabulary
from fabnet.adapters.vocabulary import key, material_name, printer_model, process_term
from fabnet.domain.capabilities import MATERIALS, Process


@pytest.mark.parametrize(
    ("text", "process"),
    [
        ("https://en.wikipedia.org/wiki/Fused_filament_fabrication", Process.FDM),
        ("https://en.wikipedia.org/wiki/3D_printing", Process.FDM),
        ("3d_printing", Process.FDM),  # the Open Hardware Manager's canonical id
        ("3d_printing_fdm", Process.FDM),
        ("3DP", Process.FDM),  # DIN SPEC 3105 TSDC code
        ("Q229367", Process.FDM),  # Wikidata: 3D printing
        ("https://www.wikidata.org/wiki/Q229367", Process.FDM),
        ("three_d_printer", Process.FDM),  # the IoPA machine list's class
        ("FUSED-FILAMENT-FABRICATION", Process.FDM),
        ("Stereolithography", Process.SLA),
        ("3d_printing_dlp", Process.SLA),
        ("selective laser sintering", Process.SLS),
        ("https://en.wikipedia.org/wiki/Milling_(machining)", Process.CNC_MILLING),
        ("CNC", Process.CNC_MILLING),
        ("precision_milling", Process.CNC_MILLING),
        ("LAS", Process.LASER_CUTTING),
        ("https://en.wikipedia.org/wiki/Laser_cutting", Process.LASER_CUTTING),
        ("laser", Process.LASER_CUTTING),
    ],
)
def test_process_identifiers_resolve(text, process):
    term = process_term(text)
    assert term is not None and term.process is process


@pytest.mark.parametrize("text", ["ASM", "post_processing", "vinyl_cutting", "scanner", "WEL"])
def test_equipment_fabnet_does_not_plan_on_is_known_but_not_a_process(text):
    term = process_term(text)
    assert term is not None and term.process is None


@pytest.mark.parametrize("text", ["", "   ", "knitting", "https://en.wikipedia.org/wiki/Cheese"])
def test_unknown_processes_are_none(text):
    assert process_term(text) is None


def test_no_identifier_names_two_processes():
    seen: dict[str, str] = {}
    for term in vocabulary.PROCESSES:
        for name in term.names:
            if name:
                assert seen.setdefault(key(name), term.canonical) == term.canonical, name


def test_no_material_name_is_two_materials():
    seen: dict[str, str] = {}
    for material, names in vocabulary.MATERIALS.items():
        assert material in set().union(*MATERIALS.values())
        for name in (material, *names):
            assert seen.setdefault(key(name), material) == material, name


@pytest.mark.parametrize(
    ("text", "material"),
    [
        ("https://en.wikipedia.org/wiki/Polylactic_acid", "PLA"),
        ("pla+", "PLA"),
        ("PET-G", "PETG"),
        ("https://en.wikipedia.org/wiki/Acrylonitrile_butadiene_styrene", "ABS"),
        ("PMMA", "ACRYLIC"),
        ("https://en.wikipedia.org/wiki/Poly(methyl_methacrylate)", "ACRYLIC"),
        ("nylon 12", "PA12"),
        ("aluminum", "ALUMINIUM"),
    ],
)
def test_material_names_resolve(text, material):
    assert material_name(text) == material


def test_every_printer_model_names_its_source_and_has_a_size():
    rows = {id(r): r for r in vocabulary.printer_models().values()}.values()
    assert len(rows) > 100
    for row in rows:
        assert row.source.startswith(("PrusaSlicer profiles ", "Cura ")), row
        assert all(v > 0 for v in row.build_volume_mm), row
        assert set(row.materials) <= MATERIALS[row.process], row


PROFILES = Path("/usr/share/PrusaSlicer/profiles")


def test_a_prusaslicer_row_matches_the_profile_it_names():
    """Read the profile directly (PrusaSlicer is part of the test set-up)."""
    assert PROFILES.is_dir(), "PrusaSlicer's profiles are missing: run make services"
    row = printer_model("Ultimaker", "Ultimaker 2")
    assert row is not None and "Ultimaker.ini" in row.source
    cfg = configparser.RawConfigParser(strict=False, interpolation=None)
    cfg.read_string((PROFILES / "Ultimaker.ini").read_text())
    bed = cfg.get("printer:Ultimaker 2", "bed_shape")
    xs = [float(p.split("x")[0]) for p in bed.split(",")]
    ys = [float(p.split("x")[1]) for p in bed.split(",")]
    height = float(cfg.get("printer:*common*", "max_print_height"))
    assert row.build_volume_mm == (max(xs) - min(xs), max(ys) - min(ys), height)


@pytest.mark.parametrize(
    ("make", "model", "expected"),
    [
        ("original prusa", "mini", "Original Prusa MINI & MINI+"),
        ("original prusa", "i3 mk3s+", "Original Prusa i3 MK3S & MK3S+"),
        ("creality", "ender-3", "Creality Ender-3"),
        ("ultimaker", "ultimaker 2+", "Ultimaker 2+"),
        ("bq", "witbox 2", "BQ Witbox 2"),
        ("", "Creality Ender-3", "Creality Ender-3"),
    ],
)
def test_printer_models_are_found_as_labs_write_them(make, model, expected):
    row = printer_model(make, model)
    assert row is not None and row.model == expected


@pytest.mark.parametrize(
    ("make", "model"),
    [("zortrax", "m200"), ("makerbot industries", "replicator 2"), ("acme", ""), ("", "")],
)
def test_a_model_of_another_make_or_none_is_not_taken(make, model):
    # Zortrax's M200 is not Malyan's M200, whatever the model name says
    assert printer_model(make, model) is None
