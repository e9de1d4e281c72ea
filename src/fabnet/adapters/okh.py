"""Open Know-How manifests: read (OKH-LOSH TOML, the Open Hardware Manager's OKH JSON)
and write (OKH-LOSH TOML beside the mesh it describes).

A manifest names a piece of hardware, its licence and version, and its parts with their
files. Each part with a mesh file fabnet reads (STL, 3MF, OBJ) that lies beside the
manifest becomes a design, keeping the licence and the source. Nothing is fetched: a
file given as a URL, or outside the manifest's folder, is reported and skipped.
docs/okh.md shows both shapes.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fabnet.adapters import vocabulary
from fabnet.domain.capabilities import MATERIALS, Process
from fabnet.domain.errors import InvalidInput

MESH_SUFFIXES = (".stl", ".3mf", ".obj")
MAX_MANIFEST_BYTES = 4 << 20
MAX_PARTS = 1000


@dataclass(frozen=True)
class PartImport:
    """One design to register, read from a manifest."""

    name: str
    path: Path
    process: str
    materials: tuple[str, ...]
    extra: dict[str, str] = field(default_factory=dict)  # licence, source, version, ...


@dataclass
class ManifestRead:
    parts: list[PartImport] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (where, why)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        out = []
        for v in value:
            if isinstance(v, str):
                out.append(v)
            elif isinstance(v, dict):  # OHM: {"title", "path", ...}; LOSH: {"url"...}
                for k in ("path", "url", "location"):
                    if isinstance(v.get(k), str):
                        out.append(v[k])
                        break
        return out
    if isinstance(value, dict):
        return _strings([value])
    return []


def _license(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):  # OHM: {"hardware": ..., "documentation": ...}
        for k in ("hardware", "documentation", "software"):
            if isinstance(value.get(k), str) and value[k].strip():
                return str(value[k]).strip()
    return ""


def _person(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return str(value["name"]).strip()
    if isinstance(value, list):
        return ", ".join(p for p in (_person(v) for v in value) if p)
    return ""


def _process(values: list[str]) -> Process | None:
    for v in values:
        term = vocabulary.process_term(v)
        if term is not None and term.process is not None:
            return term.process
    return None


def _materials(values: list[str], process: Process) -> list[str]:
    out: list[str] = []
    for v in values:
        name = vocabulary.material_name(v)
        if name and name in MATERIALS[process] and name not in out:
            out.append(name)
    return out


def _material_names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    out: list[str] = []
    if isinstance(value, list):
        for v in value:
            if isinstance(v, str):
                out.append(v)
            elif isinstance(v, dict):
                out += [str(v[k]) for k in ("material_id", "name", "material") if v.get(k)]
    return out


def load_manifest(path: Path) -> dict[str, Any]:
    """A manifest's data: TOML by its suffix (.toml), else JSON."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput("manifest", f"cannot read {path}: {exc.strerror}") from None
    if len(raw) > MAX_MANIFEST_BYTES:
        raise InvalidInput("manifest", f"larger than {MAX_MANIFEST_BYTES >> 20} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("manifest", "not UTF-8 text") from None
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
        raise InvalidInput("manifest", f"not valid {kind}: {exc}") from None
    except RecursionError:
        raise InvalidInput("manifest", "nested too deeply") from None
    if not isinstance(data, dict):
        raise InvalidInput("manifest", "expected an object (one piece of hardware)")
    return data


def read_manifest(path: Path) -> ManifestRead:
    """The parts of the manifest at ``path`` that can be designs, and what was skipped."""
    data = load_manifest(path)
    base = path.resolve().parent
    title = data.get("name") or data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise InvalidInput("name", "the manifest names no hardware (name or title)")
    common = {
        "okh": title.strip(),
        "license": _license(data.get("license")),
        "licensor": _person(data.get("licensor")),
        "version": str(data.get("version") or ""),
        "source": str(data.get("repo") or data.get("source") or ""),
    }
    extra = {k: v for k, v in common.items() if v}
    top_processes = _strings(data.get("tsdc")) + _strings(data.get("manufacturing_processes"))
    top_processes += _strings(data.get("manufacturing-processes"))
    top_materials = _material_names(data.get("materials")) + _material_names(data.get("material"))
    raw_parts = data.get("part", data.get("parts"))
    if isinstance(raw_parts, dict):
        raw_parts = [raw_parts]
    if not isinstance(raw_parts, list) or not raw_parts:
        # no parts: the manifest's own mesh files are one part each
        files = _strings(data.get("export")) + _strings(data.get("design_files"))
        files += _strings(data.get("manufacturing_files"))
        raw_parts = [{"name": Path(f).stem, "export": [f]} for f in files if _is_mesh(f)]
    if len(raw_parts) > MAX_PARTS:
        raise InvalidInput("part", f"more than {MAX_PARTS} parts")
    result = ManifestRead()
    for i, part in enumerate(raw_parts):
        where = f"part[{i}]"
        if not isinstance(part, dict):
            result.skipped.append((where, "not a table"))
            continue
        name = str(part.get("name") or f"part {i + 1}").strip()
        files = [
            f for f in _strings(part.get("export")) + _strings(part.get("source")) if _is_mesh(f)
        ]
        if not files:
            result.skipped.append((f"{where} ({name})", "no STL, 3MF or OBJ file"))
            continue
        local = _local(base, files[0])
        if isinstance(local, str):
            result.skipped.append((f"{where} ({name})", local))
            continue
        process = _process(_strings(part.get("manufacturing-process")) + _strings(part.get("tsdc")))
        process = process or _process(top_processes) or Process.FDM
        wanted = _material_names(part.get("material")) + _material_names(part.get("materials"))
        materials = _materials(wanted or top_materials, process)
        if not materials:
            said = ", ".join(wanted or top_materials) or "none"
            result.skipped.append(
                (f"{where} ({name})", f"no {process.value} material fabnet knows (gave: {said})")
            )
            continue
        result.parts.append(
            PartImport(
                name=f"{title.strip()}: {name}" if name != title.strip() else name,
                path=local,
                process=process.value,
                materials=tuple(materials),
                extra={**extra, "okh_part": name},
            )
        )
    return result


def _is_mesh(name: str) -> bool:
    return name.lower().split("?")[0].endswith(MESH_SUFFIXES)


def _local(base: Path, name: str) -> Path | str:
    """The file ``name`` inside ``base``, or why not (a URL, outside, missing)."""
    if re.match(r"^[a-z][a-z0-9+.-]*://", name, re.IGNORECASE):
        return f"{name}: a URL; nothing is fetched (put the file beside the manifest)"
    candidate = (base / name.lstrip("/")).resolve()  # "/x.stl" in LOSH: the repository root
    if not candidate.is_relative_to(base):
        return f"{name}: outside the manifest's folder"
    if not candidate.is_file():
        return f"{name}: no such file beside the manifest"
    return candidate


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def losh_manifest(
    *,
    name: str,
    filename: str,
    process: str,
    materials: tuple[str, ...],
    license: str,
    licensor: str,
    version: str,
    source: str,
) -> str:
    """An OKH-LOSH manifest for one design whose mesh ``filename`` lies beside it."""
    tsdc = {"fdm": "3DP", "sla": "3DP", "sls": "3DP", "cnc_milling": "CNC"}.get(process, "LAS")
    lines = ['okhv = "2.0"', f"name = {_toml_string(name)}"]
    for key, value in (
        ("version", version),
        ("license", license),
        ("licensor", licensor),
        ("repo", source),
    ):
        if value:
            lines.append(f"{key} = {_toml_string(value)}")
    lines += [
        "",
        "[[part]]",
        f"name = {_toml_string(name)}",
        f"tsdc = {_toml_string(tsdc)}",
        f"manufacturing-process = {_toml_string(process)}",
        f"export = [{_toml_string(filename)}]",
        "material = [" + ", ".join(_toml_string(m) for m in materials) + "]",
        "",
    ]
    return "\n".join(lines)
