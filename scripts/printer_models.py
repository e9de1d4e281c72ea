"""Write src/fabnet/adapters/data/printer_models.csv from the slicers' printer profiles.

Each row is one printer model as a slicer's bundled profile describes it. From
PrusaSlicer's vendor profiles: the bed's bounding box (``bed_shape``), the highest print
(``max_print_height``), the technology and the filaments the bundle installs by default.
From Cura's machine definitions (where PrusaSlicer has no row for the model):
``machine_width``, ``machine_depth``, ``machine_height`` and the preferred material. The
source column names the file, its version and the section the figures were read from, so
every row can be checked against the file it came from.

    python scripts/printer_models.py [PRUSASLICER_PROFILES [CURA_DEFINITIONS CURA_VERSION]]

(defaults: /usr/share/PrusaSlicer/profiles; Cura's definitions from Debian's cura
package, e.g. ``apt-get download cura && dpkg -x cura_*.deb x`` then
x/usr/share/cura/resources/definitions 4.13.0).

Run by hand when PrusaSlicer's profiles change; the CSV is committed, nothing is read
from the profiles at run time.
"""

from __future__ import annotations

import configparser
import csv
import re
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src/fabnet/adapters/data/printer_models.csv"

# PrusaSlicer filament preset names -> fabnet materials (the rest are not planned on)
FILAMENTS = {
    "PLA": "PLA",
    "PETG": "PETG",
    "PET": "PETG",
    "ABS": "ABS",
    "ASA": "ASA",
    "TPU": "TPU",
    "FLEX": "TPU",
    "PC": "PC",
    "PA": "PA",
    "NYLON": "PA",
}


def _config(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def _value(cfg: configparser.RawConfigParser, section: str, key: str, depth: int = 0) -> str:
    if depth > 20 or not cfg.has_section(section):
        return ""
    if cfg.has_option(section, key):
        return cfg.get(section, key)
    for parent in reversed(
        [p.strip() for p in cfg.get(section, "inherits", fallback="").split(";")]
    ):
        if parent:
            found = _value(cfg, f"printer:{parent}", key, depth + 1)
            if found:
                return found
    return ""


def _materials(defaults: str) -> list[str]:
    out: list[str] = []
    for preset in defaults.split(";"):
        words = re.findall(r"[A-Za-z]+", preset.split("@")[0].upper())
        for word in words:
            material = FILAMENTS.get(word)
            if material and material not in out:
                out.append(material)
                break
    return out


def rows(profiles: Path) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for ini in sorted(profiles.glob("*.ini")):
        cfg = _config(ini)
        version = cfg.get("vendor", "config_version", fallback="?")
        vendor = cfg.get("vendor", "name", fallback=ini.stem)
        models = {s.split(":", 1)[1]: s for s in cfg.sections() if s.startswith("printer_model:")}
        seen: set[str] = set()
        for section in cfg.sections():
            if not section.startswith("printer:") or section.startswith("printer:*"):
                continue
            model_id = _value(cfg, section, "printer_model")
            if not model_id or model_id in seen or model_id not in models:
                continue
            bed = _value(cfg, section, "bed_shape")
            height = _value(cfg, section, "max_print_height")
            try:
                points = [tuple(float(c) for c in p.split("x")) for p in bed.split(",")]
                xs = [p[0] for p in points]
                ys = [p[1] for p in points]
                z = float(height)
            except ValueError:
                continue
            x, y = max(xs) - min(xs), max(ys) - min(ys)
            if not (x > 0 and y > 0 and z > 0):
                continue
            model = models[model_id]
            technology = cfg.get(model, "technology", fallback="FFF").strip().upper()
            seen.add(model_id)
            out.append(
                {
                    "make": vendor,
                    "model": cfg.get(model, "name", fallback=model_id).strip(),
                    "process": "sla" if technology == "SLA" else "fdm",
                    "x_mm": f"{x:g}",
                    "y_mm": f"{y:g}",
                    "z_mm": f"{z:g}",
                    "materials": " ".join(
                        _materials(cfg.get(model, "default_materials", fallback=""))
                    ),
                    "source": f"PrusaSlicer profiles {ini.name} {version} [{section}]",
                }
            )
    return out


def _cura_value(defs: dict[str, dict[str, object]], ident: str, key: str) -> object:
    seen = 0
    while ident in defs and seen < 30:
        d = defs[ident]
        overrides = d.get("overrides") or {}
        if isinstance(overrides, dict) and key in overrides:
            value = overrides[key]
            if isinstance(value, dict) and "default_value" in value:
                return value["default_value"]
        ident = str(d.get("inherits") or "")
        seen += 1
    return None


def _cura_meta(defs: dict[str, dict[str, object]], ident: str, key: str) -> object:
    seen = 0
    while ident in defs and seen < 30:
        meta = defs[ident].get("metadata") or {}
        if isinstance(meta, dict) and meta.get(key):
            return meta[key]
        ident = str(defs[ident].get("inherits") or "")
        seen += 1
    return None


def cura_rows(definitions: Path, version: str) -> list[dict[str, str]]:
    import json

    defs: dict[str, dict[str, object]] = {}
    for path in sorted(definitions.glob("*.def.json")):
        try:
            defs[path.name.removesuffix(".def.json")] = json.loads(path.read_text())
        except ValueError:
            continue
    out = []
    for ident, d in sorted(defs.items()):
        meta = d.get("metadata") or {}
        if not isinstance(meta, dict) or meta.get("visible") is False or ident == "fdmprinter":
            continue
        if meta.get("type") == "extruder" or not d.get("inherits"):
            continue
        sizes = [
            _cura_value(defs, ident, k)
            for k in ("machine_width", "machine_depth", "machine_height")
        ]
        if not all(isinstance(v, int | float) and v > 0 for v in sizes):
            continue
        material = str(_cura_meta(defs, ident, "preferred_material") or "").upper()
        words = re.findall(r"[A-Z]+", material)
        materials = [FILAMENTS[w] for w in words if w in FILAMENTS][:1]
        out.append(
            {
                "make": str(meta.get("manufacturer") or ""),
                "model": str(d.get("name") or ident).strip(),
                "process": "fdm",
                "x_mm": f"{float(sizes[0]):g}",  # type: ignore[arg-type]
                "y_mm": f"{float(sizes[1]):g}",  # type: ignore[arg-type]
                "z_mm": f"{float(sizes[2]):g}",  # type: ignore[arg-type]
                "materials": " ".join(materials),
                "source": f"Cura {version} resources/definitions/{ident}.def.json",
            }
        )
    return out


def main() -> int:
    profiles = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/PrusaSlicer/profiles")
    found = rows(profiles)
    if len(sys.argv) > 3:
        found += cura_rows(Path(sys.argv[2]), sys.argv[3])
    if not found:
        print(f"no printer profiles under {profiles}", file=sys.stderr)
        return 1
    try:
        version = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "prusa-slicer"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        version = ""
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as f:
        f.write(
            "# Build volumes of common printers, read from PrusaSlicer's vendor profiles"
            f" (Debian prusa-slicer {version or 'unknown'})"
            + (f" and Cura {sys.argv[3]}'s machine definitions" if len(sys.argv) > 3 else "")
            + " by scripts/printer_models.py.\n"
        )
        writer = csv.DictWriter(f, fieldnames=list(found[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(found)
    print(f"{len(found)} printer models -> {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
