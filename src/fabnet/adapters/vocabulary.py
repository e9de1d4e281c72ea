"""How other projects name processes, materials and printers, resolved to fabnet's terms.

One table per kind, each in one place:

* processes: the Open Hardware Manager's canonical ids (``3d_printing``, ``cnc_milling``),
  DIN SPEC 3105 TSDC codes (``3DP``, ``CNC``, ``LAS``), English Wikipedia article URLs or
  their slugs (the OKW convention), Wikidata ids, the IoPA machine classes
  (``three_d_printer``) and plain aliases. A process fabnet cannot plan on (assembly,
  welding, a vinyl cutter, a scanner) resolves to a known name with no fabnet process:
  the importer keeps it as non-planning equipment instead of refusing the facility.
* materials: fabnet's names, Wikipedia URLs and slugs, common trade names.
* printer models: make and model -> build volume, process and default materials, read
  from PrusaSlicer's vendor profiles (data/printer_models.csv, each row naming the
  profile section it came from; scripts/printer_models.py writes it).

Matching is case-, accent- and separator-insensitive: ``Fused_filament_fabrication``,
``fused filament fabrication`` and ``FUSED-FILAMENT-FABRICATION`` are one key.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from urllib.parse import unquote, urlparse

from fabnet.domain.capabilities import Process

WIKIPEDIA = "https://en.wikipedia.org/wiki/"


def key(text: str) -> str:
    """The matching key of an identifier: a URL's last path segment (Wikipedia, Wikidata),
    accents and case folded, everything but letters and digits dropped."""
    text = text.strip()
    if "://" in text:
        path = urlparse(text).path.rstrip("/")
        text = unquote(path.rsplit("/", 1)[-1])
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^0-9a-z]+", "", folded.replace("+", "plus"))


@dataclass(frozen=True)
class ProcessTerm:
    """One process as the outside world names it."""

    canonical: str  # the Open Hardware Manager's canonical id
    process: Process | None  # None: fabnet cannot plan on it
    tsdc: str = ""  # DIN SPEC 3105 TSDC code, when the process has one
    wikipedia: tuple[str, ...] = ()  # English Wikipedia article slugs
    wikidata: tuple[str, ...] = ()  # Wikidata ids
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.canonical, self.tsdc, *self.wikipedia, *self.wikidata, *self.aliases)


# Canonical ids, TSDC codes and aliases follow the Open Hardware Manager's process
# taxonomy (helpfulengineering/supply-graph-ai, src/config/taxonomy/processes.yaml);
# Wikidata ids only where a public source named them (Q229367 3D printing, Q360931
# additive manufacturing). Generic "3D printing" means FDM, the 3D printing of makers;
# a printer model known to be resin (data/printer_models.csv) overrides it.
PROCESSES: tuple[ProcessTerm, ...] = (
    ProcessTerm(
        "3d_printing_fdm",
        Process.FDM,
        wikipedia=("Fused_filament_fabrication", "Fused_deposition_modeling"),
        aliases=(
            "fdm",
            "fff",
            "fdm printing",
            "fused deposition modelling",
            "fused filament fabrication",
            "filament 3d printing",
        ),
    ),
    ProcessTerm(
        "3d_printing",
        Process.FDM,
        tsdc="3DP",
        wikipedia=("3D_printing", "Additive_manufacturing"),
        wikidata=("Q229367", "Q360931"),
        aliases=("3d print", "3d printer", "three_d_printer", "additive manufacturing"),
    ),
    ProcessTerm(
        "3d_printing_sla",
        Process.SLA,
        wikipedia=("Stereolithography",),
        aliases=(
            "sla",
            "msla",
            "sla printing",
            "sla printer",
            "resin printing",
            "resin printer",
            "vat photopolymerisation",
        ),
    ),
    ProcessTerm(
        "3d_printing_dlp",
        Process.SLA,
        wikipedia=("Digital_Light_Processing",),
        aliases=("dlp", "dlp printing", "digital light processing"),
    ),
    ProcessTerm(
        "3d_printing_sls",
        Process.SLS,
        wikipedia=("Selective_laser_sintering",),
        aliases=("sls", "sls printing", "powder bed fusion"),
    ),
    ProcessTerm(
        "cnc_milling",
        Process.CNC_MILLING,
        wikipedia=("Milling_(machining)",),
        aliases=("cnc mill", "milling", "cnc router", "precision_milling", "milling machine"),
    ),
    ProcessTerm(
        "cnc_machining",
        Process.CNC_MILLING,
        tsdc="CNC",
        wikipedia=("Numerical_control", "Machining"),
        aliases=("cnc", "computer numerical control", "subtractive manufacturing"),
    ),
    ProcessTerm(
        "laser_cutting",
        Process.LASER_CUTTING,
        tsdc="LAS",
        wikipedia=("Laser_cutting",),
        aliases=("laser", "laser cutter", "laser cut", "laser engraving", "laser_cutter"),
    ),
    # kept as equipment, not planned on
    ProcessTerm("cnc_turning", None, aliases=("cnc lathe", "turning", "lathe")),
    ProcessTerm("pcb_fabrication", None, tsdc="PCB", wikipedia=("Printed_circuit_board",)),
    ProcessTerm("assembly", None, tsdc="ASM", aliases=("assembly line", "assembly station")),
    ProcessTerm("mechanical_assembly", None, tsdc="MEC"),
    ProcessTerm("electronics_assembly", None, aliases=("pcb assembly", "soldering station")),
    ProcessTerm("electronic_circuitry", None, tsdc="CIR"),
    ProcessTerm("welding", None, tsdc="WEL", wikipedia=("Welding",)),
    ProcessTerm("sheet_metal_forming", None, tsdc="SHEET", aliases=("sheet metal",)),
    ProcessTerm(
        "post_processing", None, tsdc="POST", aliases=("post processing station", "finishing")
    ),
    ProcessTerm("injection_molding", None, wikipedia=("Injection_moulding",)),
    ProcessTerm("water_jet_cutting", None, aliases=("waterjet", "water jet")),
    ProcessTerm("plasma_cutting", None, wikipedia=("Plasma_cutting",)),
    ProcessTerm(
        "vinyl_cutting",
        None,
        wikipedia=("Vinyl_cutter",),
        aliases=("vinyl cutter", "plotter cutter", "cutting plotter"),
    ),
    ProcessTerm("3d_scanning", None, wikipedia=("3D_scanning",), aliases=("scanner", "3d scanner")),
    ProcessTerm("casting", None, wikipedia=("Casting_(metalworking)",)),
    ProcessTerm("painting", None),
    ProcessTerm("testing", None, aliases=("quality control", "test equipment")),
    ProcessTerm("packaging", None),
    ProcessTerm("other", None, aliases=("misc", "miscellaneous")),
)

# fabnet material -> other names for it (Wikipedia slugs, trade names)
MATERIALS: dict[str, tuple[str, ...]] = {
    "PLA": ("Polylactic_acid", "pla+", "pla plus", "polylactide"),
    "PETG": ("pet-g", "pet g", "polyethylene terephthalate glycol"),
    "ABS": ("Acrylonitrile_butadiene_styrene", "abs+"),
    "ASA": ("Acrylonitrile_styrene_acrylate",),
    "TPU": ("Thermoplastic_polyurethane", "flex", "flexible filament"),
    "PA": ("Nylon", "Polyamide", "nylon filament"),
    "PC": ("Polycarbonate",),
    "RESIN_STANDARD": ("resin", "standard resin", "photopolymer", "Photopolymer"),
    "RESIN_TOUGH": ("tough resin",),
    "RESIN_FLEXIBLE": ("flexible resin",),
    "PA12": ("Nylon_12", "nylon 12", "polyamide 12"),
    "PA11": ("Nylon_11", "nylon 11", "polyamide 11"),
    "ALUMINIUM": ("Aluminium", "aluminum"),
    "STEEL": ("Steel", "stainless steel"),
    "BRASS": ("Brass",),
    "POM": ("Polyoxymethylene", "acetal", "delrin"),
    "WOOD": ("Wood", "hardwood", "mdf", "Medium-density_fibreboard"),
    "ACRYLIC": ("Poly(methyl_methacrylate)", "pmma", "plexiglass", "perspex", "acrylic glass"),
    "PLYWOOD": ("Plywood",),
    "PET_SHEET": ("pet sheet", "petg sheet"),
    "CARDBOARD": ("Cardboard", "Corrugated_fiberboard"),
}


@cache
def _process_table() -> dict[str, ProcessTerm]:
    table: dict[str, ProcessTerm] = {}
    for term in PROCESSES:
        if term.process is not None:
            table.setdefault(key(term.process.value), term)
        for name in term.names:
            if name:
                table.setdefault(key(name), term)
    return table


@cache
def _material_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for material, names in MATERIALS.items():
        for name in (material, *names):
            table.setdefault(key(name), material)
    return table


def process_term(text: str) -> ProcessTerm | None:
    """The process ``text`` names, or None when no table row knows it."""
    return _process_table().get(key(text)) if text.strip() else None


def material_name(text: str) -> str | None:
    """fabnet's name of the material ``text`` names, or None."""
    return _material_table().get(key(text)) if text.strip() else None


def known_processes() -> list[str]:
    return sorted({t.canonical for t in PROCESSES})


@dataclass(frozen=True)
class PrinterModel:
    make: str
    model: str
    process: Process
    build_volume_mm: tuple[float, float, float]
    materials: tuple[str, ...]
    source: str


def _model_keys(make: str, model: str) -> set[str]:
    """Keys a model is known by: with and without its make, each '&' alternative."""
    names = [m.strip() for m in model.replace("&&", "&").split("&") if m.strip()]
    if len(names) > 1:  # "Original Prusa i3 MK3S & MK3S+": the second shares the first's stem
        stem = names[0].rsplit(" ", 1)[0]
        names[1:] = [n if " " in n else f"{stem} {n}" for n in names[1:]]
    out: set[str] = set()
    make_keys = {key(make), *(key(w) for w in make.split()[:1])} - {""}
    for name in names:
        k = key(name)
        out.add(k)
        for make_key in make_keys:
            out.add(k.removeprefix(make_key) or k)
        for prefix in ("original", "originalprusa"):  # "Original Prusa MINI" is a "mini"
            out.add(k.removeprefix(prefix) or k)
    return out


@cache
def printer_models() -> dict[str, PrinterModel]:
    """Printer models by key (make+model and model alone)."""
    text = resources.files("fabnet.adapters").joinpath("data/printer_models.csv").read_text()
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    table: dict[str, PrinterModel] = {}
    for row in rows:
        found = PrinterModel(
            make=row["make"],
            model=row["model"].replace("&&", "&"),
            process=Process(row["process"]),
            build_volume_mm=(float(row["x_mm"]), float(row["y_mm"]), float(row["z_mm"])),
            materials=tuple(row["materials"].split()),
            source=row["source"],
        )
        for k in _model_keys(row["make"], row["model"]):
            table.setdefault(k, found)
            table.setdefault(key(row["make"]) + k, found)
    return table


# makes whose printers are all resin printers (for a "3D printer" with no model row)
RESIN_MAKES = frozenset({"formlabs", "asiga", "peopoly"})


def _same_make(given: str, row: PrinterModel) -> bool:
    """Whether a record's make can be the row's (``makerbot industries`` and ``MakerBot``,
    ``original prusa`` and a row whose model is ``Original Prusa MINI``)."""
    words = [key(w) for w in given.split() if key(w)]
    if not words:
        return True
    row_words = [key(w) for w in row.make.split() if key(w)]
    row_make, row_model = key(row.make), key(row.model)
    return (
        words[0] in row_make
        or words[0] in row_model
        or bool(row_words and row_words[0] in key(given))
    )


def printer_model(make: str, model: str) -> PrinterModel | None:
    """The row for ``make`` and ``model`` (the model may also hold the make), or None."""
    table = printer_models()
    make_key, model_key = key(make), key(model)
    if not model_key:
        return None
    for k in (make_key + model_key, model_key, model_key.removeprefix(make_key)):
        row = table.get(k) if k else None
        if row is not None and _same_make(make, row):
            return row
    return None
