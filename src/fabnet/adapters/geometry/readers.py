"""Mesh file readers: STL (binary and ASCII), OBJ and 3MF into a triangle array.

Each reader checks its limits before the expensive step: the triangle cap is applied to
the count a file declares (or a cheap count of its records) before any array is built,
and a 3MF archive is read through a bounded stream, so a zip bomb stops at the cap
whatever its headers claim. Every refusal is a ``BadMesh`` naming what is wrong.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from xml.etree import ElementTree

import numpy as np
from numpy.typing import NDArray

from fabnet.domain.errors import BadMesh

Triangles = NDArray[np.float64]  # shape (n, 3, 3): triangle, corner, xyz

MEDIA_TYPES = {".stl": "model/stl", ".obj": "model/obj", ".3mf": "model/3mf"}
_STL_RECORD = np.dtype([("normal", "<f4", 3), ("v", "<f4", (3, 3)), ("attr", "<u2")])
_VERTEX = re.compile(rb"vertex\s+(\S+)\s+(\S+)\s+(\S+)")
_UNITS_MM = {
    "micron": 0.001,
    "millimeter": 1.0,
    "centimeter": 10.0,
    "inch": 25.4,
    "foot": 304.8,
    "meter": 1000.0,
}
_CORE = "{http://schemas.microsoft.com/3dmanufacturing/core/2015/02}"


@dataclass(frozen=True, slots=True)
class Limits:
    max_triangles: int = 2_000_000
    max_unpacked_bytes: int = 512 << 20  # a 3MF's model once unzipped
    max_ratio: float = 200.0  # unzipped / zipped; XML meshes compress ~5-15x


def media_type(filename: str) -> str:
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    try:
        return MEDIA_TYPES[suffix]
    except KeyError:
        known = ", ".join(sorted(MEDIA_TYPES))
        raise BadMesh("file", f"{filename!r}: unsupported file type (use {known})") from None


def read_mesh(filename: str, data: bytes, limits: Limits) -> tuple[str, Triangles]:
    """Parse a mesh file into triangles (mm). Raises BadMesh with the reason."""
    kind = media_type(filename)
    if not data:
        raise BadMesh("file", "the file is empty")
    if kind == "model/stl":
        tris = read_stl(data, limits)
    elif kind == "model/obj":
        tris = read_obj(data, limits)
    else:
        tris = read_3mf(data, limits)
    if len(tris) == 0:
        raise BadMesh("file", "the mesh has no triangles")
    return kind, tris


def _cap(count: int, limits: Limits) -> None:
    if count > limits.max_triangles:
        raise BadMesh("file", f"{count} triangles is over the cap of {limits.max_triangles}")


# -- STL -------------------------------------------------------------------------------


def read_stl(data: bytes, limits: Limits) -> Triangles:
    if len(data) >= 84:
        (count,) = struct.unpack_from("<I", data, 80)
        if len(data) == 84 + 50 * count:
            _cap(count, limits)
            records = np.frombuffer(data, dtype=_STL_RECORD, count=count, offset=84)
            return records["v"].astype(np.float64)
    head = data[:512].lstrip()
    if head[:5].lower() == b"solid" and _is_text(data[:4096]):
        return _read_ascii_stl(data, limits)
    if len(data) >= 84:
        (count,) = struct.unpack_from("<I", data, 80)
        need = 84 + 50 * count
        raise BadMesh(
            "file",
            f"truncated or padded binary STL: its header says {count} triangles "
            f"({need} bytes) but the file has {len(data)} bytes",
        )
    raise BadMesh("file", "not an STL file (too short for binary, not ASCII 'solid ...')")


def _is_text(sample: bytes) -> bool:
    return all(b in b"\t\n\r" or 32 <= b < 127 for b in sample)


def _read_ascii_stl(data: bytes, limits: Limits) -> Triangles:
    facets = data.count(b"endfacet")
    _cap(facets, limits)
    try:
        data.decode("ascii")
    except UnicodeDecodeError:
        raise BadMesh("file", "an ASCII STL must be plain ASCII text") from None
    found = _VERTEX.findall(data)
    if len(found) != 3 * facets or data.count(b"facet normal") != facets:
        raise BadMesh("file", "truncated ASCII STL: each facet needs three vertices")
    if b"endsolid" not in data[-256:]:
        raise BadMesh("file", "truncated ASCII STL: no 'endsolid' at the end")
    try:
        coords = np.array(found, dtype=np.float64)
    except ValueError:
        bad = next(v for v in found if not _floats(v))
        raise BadMesh("file", f"'vertex {b' '.join(bad).decode()}' is not three numbers") from None
    return coords.reshape(-1, 3, 3)


def _floats(words: tuple[bytes, ...]) -> bool:
    try:
        [float(w) for w in words]
    except ValueError:
        return False
    return True


# -- OBJ -------------------------------------------------------------------------------


def read_obj(data: bytes, limits: Limits) -> Triangles:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadMesh("file", "an OBJ file must be UTF-8 text") from None
    vertices: list[tuple[float, float, float]] = []
    faces: list[tuple[int, int, int]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        words = raw.split()
        if not words:
            continue
        if words[0] == "v":
            if len(words) < 4:
                raise BadMesh("file", f"line {number}: a vertex needs x y z")
            try:
                vertices.append((float(words[1]), float(words[2]), float(words[3])))
            except ValueError:
                raise BadMesh(
                    "file", f"line {number}: {raw.strip()[:60]!r} is not a vertex"
                ) from None
        elif words[0] == "f":
            corners = [_obj_index(w, len(vertices), number) for w in words[1:]]
            if len(corners) < 3:
                raise BadMesh("file", f"line {number}: a face needs at least three corners")
            faces.extend(
                (corners[0], corners[i], corners[i + 1]) for i in range(1, len(corners) - 1)
            )
            _cap(len(faces), limits)
    if not faces:
        return np.zeros((0, 3, 3))
    return np.asarray(vertices, dtype=np.float64)[np.asarray(faces, dtype=np.int64)]


def _obj_index(word: str, count: int, number: int) -> int:
    try:
        index = int(word.split("/", 1)[0])
    except ValueError:
        raise BadMesh("file", f"line {number}: {word!r} is not a vertex index") from None
    resolved = index - 1 if index > 0 else count + index
    if index == 0 or not 0 <= resolved < count:
        raise BadMesh("file", f"line {number}: vertex {index} does not exist (yet)")
    return resolved


# -- 3MF -------------------------------------------------------------------------------


def read_3mf(data: bytes, limits: Limits) -> Triangles:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise BadMesh("file", "not a 3MF file (a 3MF is a zip archive)") from None
    with archive:
        name = _model_name(archive)
        xml = _bounded_read(archive, name, limits, len(data))
    if b"<!DOCTYPE" in xml[:4096] or b"<!ENTITY" in xml:
        raise BadMesh("file", "3MF models must not declare a DOCTYPE or entities")
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise BadMesh("file", f"{name}: not well-formed XML ({exc})") from None
    scale = _UNITS_MM.get(root.get("unit", "millimeter"))
    if scale is None:
        raise BadMesh("file", f"{name}: unknown unit {root.get('unit')!r}")
    objects = {obj.get("id", ""): obj for obj in root.iter(f"{_CORE}object")}
    items = [item.get("objectid", "") for item in root.iter(f"{_CORE}item")]
    _check_expansion(objects, items, limits)  # before a single vertex is built
    parts: list[Triangles] = []
    meshes: dict[str, Triangles] = {}
    count = 0
    for item in root.iter(f"{_CORE}item"):
        if item.get("printable", "1").strip().lower() in ("0", "false"):
            continue  # a build item marked not to be printed (a helper or a reference)
        found = _object_triangles(objects, item.get("objectid", ""), _matrix(item), 0, meshes)
        for tris in found:
            count += len(tris)
            _cap(count, limits)
            parts.append(tris)
    if not parts:
        return np.zeros((0, 3, 3))
    return np.concatenate(parts) * scale


def _model_name(archive: zipfile.ZipFile) -> str:
    names = set(archive.namelist())
    if "_rels/.rels" in names:
        try:
            with archive.open("_rels/.rels") as stream:
                rels = stream.read(65536)  # a relationships part is small: read no more
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, zlib.error) as exc:
            raise BadMesh("file", f"_rels/.rels: broken archive ({exc})") from None
        target = re.search(rb'Target="/?([^"]+\.model)"', rels)
        if target and target.group(1).decode() in names:
            return target.group(1).decode()
    if "3D/3dmodel.model" in names:
        return "3D/3dmodel.model"
    raise BadMesh("file", "the 3MF archive has no 3D model part")


def _bounded_read(archive: zipfile.ZipFile, name: str, limits: Limits, packed: int) -> bytes:
    info = archive.getinfo(name)
    cap = min(limits.max_unpacked_bytes, int(max(packed, 1 << 16) * limits.max_ratio))
    if info.file_size > cap:
        raise BadMesh("file", f"{name} unpacks to {info.file_size} bytes, over the cap of {cap}")
    out = bytearray()
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(1 << 20):
                out += chunk
                if len(out) > cap:
                    raise BadMesh("file", f"{name} unpacks to more than {cap} bytes (zip bomb?)")
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, zlib.error) as exc:
        raise BadMesh("file", f"{name}: broken archive ({exc})") from None
    return bytes(out)


def _matrix(node: ElementTree.Element) -> NDArray[np.float64]:
    text = node.get("transform")
    if not text:
        return np.eye(4)
    try:
        m = [float(v) for v in text.split()]
    except ValueError:
        raise BadMesh("file", f"transform {text[:60]!r} is not 12 numbers") from None
    if len(m) != 12:
        raise BadMesh("file", f"transform {text[:60]!r} is not 12 numbers")
    out = np.eye(4)
    out[:3, :3] = np.array(m[:9]).reshape(3, 3)  # 3MF rows: m00 m01 m02 / m10 ... (row vectors)
    out[3, :3] = m[9:]
    return out


MAX_DEPTH = 16
MAX_INSTANCES = 10_000  # placed copies of objects, after expanding every component


def _check_expansion(
    objects: dict[str, ElementTree.Element], items: list[str], limits: Limits
) -> None:
    """Count what the component tree expands to (triangles and placed copies), each
    object once (memoised), so that a few hundred bytes of nesting cannot make us
    build millions of triangles before the cap says no."""
    memo: dict[str, tuple[int, int]] = {}  # object -> (triangles, instances) expanded
    visiting: set[str] = set()

    def expand(object_id: str, depth: int) -> tuple[int, int]:
        if object_id in memo:
            return memo[object_id]
        if depth > MAX_DEPTH or object_id in visiting:
            raise BadMesh("file", f"3MF components nest deeper than {MAX_DEPTH} levels (a cycle?)")
        obj = objects.get(object_id)
        if obj is None:
            raise BadMesh("file", f"3MF build item refers to unknown object {object_id!r}")
        visiting.add(object_id)
        mesh = obj.find(f"{_CORE}mesh")
        triangles = 0 if mesh is None else sum(1 for _ in mesh.iter(f"{_CORE}triangle"))
        instances = 1
        for comp in obj.iter(f"{_CORE}component"):
            t, i = expand(comp.get("objectid", ""), depth + 1)
            triangles, instances = triangles + t, instances + i
            if triangles > limits.max_triangles or instances > MAX_INSTANCES:
                break  # already over: stop counting
        visiting.discard(object_id)
        memo[object_id] = (triangles, instances)
        return memo[object_id]

    triangles = instances = 0
    for object_id in items:
        t, i = expand(object_id, 0)
        triangles, instances = triangles + t, instances + i
        if instances > MAX_INSTANCES:
            raise BadMesh("file", f"3MF components expand to over {MAX_INSTANCES} placed objects")
        _cap(triangles, limits)


def _object_triangles(
    objects: dict[str, ElementTree.Element],
    object_id: str,
    transform: NDArray[np.float64],
    depth: int,
    meshes: dict[str, Triangles],
) -> list[Triangles]:
    if depth > MAX_DEPTH:
        raise BadMesh("file", f"3MF components nest deeper than {MAX_DEPTH} levels (a cycle?)")
    obj = objects.get(object_id)
    if obj is None:
        raise BadMesh("file", f"3MF build item refers to unknown object {object_id!r}")
    out: list[Triangles] = []
    mesh = obj.find(f"{_CORE}mesh")
    if mesh is not None:
        if object_id not in meshes:  # parsed once, however often it is placed
            meshes[object_id] = _mesh_triangles(mesh, object_id)
        out.append(_apply(meshes[object_id], transform))
    for comp in obj.iter(f"{_CORE}component"):
        inner = _matrix(comp) @ transform
        out.extend(_object_triangles(objects, comp.get("objectid", ""), inner, depth + 1, meshes))
    return out


def _mesh_triangles(mesh: ElementTree.Element, object_id: str) -> Triangles:
    try:
        verts = np.array(
            [
                (float(v.get("x", "")), float(v.get("y", "")), float(v.get("z", "")))
                for v in mesh.iter(f"{_CORE}vertex")
            ],
            dtype=np.float64,
        ).reshape(-1, 3)
        faces = np.array(
            [
                (int(t.get("v1", "")), int(t.get("v2", "")), int(t.get("v3", "")))
                for t in mesh.iter(f"{_CORE}triangle")
            ],
            dtype=np.int64,
        ).reshape(-1, 3)
    except ValueError:
        raise BadMesh(
            "file", f"3MF object {object_id}: a vertex or triangle is malformed"
        ) from None
    if len(faces) and (faces.min() < 0 or faces.max() >= len(verts)):
        raise BadMesh("file", f"3MF object {object_id}: a triangle names a missing vertex")
    return verts[faces]


def _apply(tris: Triangles, transform: NDArray[np.float64]) -> Triangles:
    if np.array_equal(transform, np.eye(4)):
        return tris
    flat = tris.reshape(-1, 3) @ transform[:3, :3] + transform[3, :3]
    return flat.reshape(-1, 3, 3)
