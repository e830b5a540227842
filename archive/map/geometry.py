"""The base layer of the festival map: Natural Earth country shapes (public domain, from the npm package
world-atlas, ISC) decoded from TopoJSON, projected into an SVG view box, simplified and rounded.

Plain values in, plain values out: nothing here needs an application, so the base map can be built and
tested on its own. The archive caches the result (see :mod:`archive.map.services`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

#: ISO 3166-1 numeric code of Viet Nam in Natural Earth / world-atlas.
VIETNAM_ID = "704"
#: Neighbours drawn lightly for context: China, Laos, Cambodia, Thailand.
NEIGHBOUR_IDS = ("156", "418", "116", "764")
#: The world-atlas 2.0.2 file the base map is built from (installed by npm; see package.json).
DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "node_modules" / "world-atlas" / "countries-50m.json"

Point = tuple[float, float]


@dataclass(frozen=True)
class Frame:
    """The part of the Earth the map shows and how it is projected into SVG user units.

    An equirectangular projection with the longitude scaled by cos(reference latitude): at the scale of
    one country this keeps shapes true enough, and every coordinate stays a simple linear function.
    """

    west: float = 101.8
    east: float = 117.0
    south: float = 7.3
    north: float = 23.6
    #: SVG user units per degree of latitude.
    scale: float = 40.0
    reference_latitude: float = 15.5

    @property
    def x_scale(self) -> float:
        """SVG user units per degree of longitude."""
        return self.scale * math.cos(math.radians(self.reference_latitude))

    @property
    def width(self) -> int:
        """Width of the view box."""
        return round((self.east - self.west) * self.x_scale)

    @property
    def height(self) -> int:
        """Height of the view box."""
        return round((self.north - self.south) * self.scale)

    def project(self, longitude: float, latitude: float) -> Point:
        """SVG coordinates (x to the right, y down) of a point given in degrees."""
        return ((longitude - self.west) * self.x_scale, (self.north - latitude) * self.scale)

    def contains(self, x: float, y: float) -> bool:
        """Whether projected coordinates fall inside the view box."""
        return 0 <= x <= self.width and 0 <= y <= self.height


FRAME = Frame()


# --- TopoJSON -------------------------------------------------------------------------------------


def decode_arcs(topology: dict, indices: Iterable[int] | None = None) -> dict[int, list[Point]]:
    """Absolute (longitude, latitude) points of the arcs of a quantized TopoJSON topology.

    Arcs are delta-encoded integer positions; ``transform`` maps them to degrees. Only the arcs in
    *indices* are decoded (all of them when None).
    """
    transform = topology.get("transform")
    arcs = topology["arcs"]
    wanted = range(len(arcs)) if indices is None else sorted(set(indices))
    decoded: dict[int, list[Point]] = {}
    for index in wanted:
        points: list[Point] = []
        x = y = 0.0
        for position in arcs[index]:
            if transform:
                x += position[0]
                y += position[1]
                sx, sy = transform["scale"]
                tx, ty = transform["translate"]
                points.append((x * sx + tx, y * sy + ty))
            else:
                points.append((float(position[0]), float(position[1])))
        decoded[index] = points
    return decoded


def geometry_polygons(geometry: dict) -> list[list[list[int]]]:
    """The polygons of a TopoJSON Polygon or MultiPolygon geometry, as lists of rings of arc indices."""
    if geometry.get("type") == "Polygon":
        return [geometry["arcs"]]
    if geometry.get("type") == "MultiPolygon":
        return list(geometry["arcs"])
    return []


def arc_index(reference: int) -> int:
    """The arc a ring refers to: a negative reference ~i means arc i, reversed."""
    return reference if reference >= 0 else ~reference


def ring_points(ring: Sequence[int], arcs: dict[int, list[Point]]) -> list[Point]:
    """Join the arcs of one ring into a closed list of points (shared end points written once)."""
    points: list[Point] = []
    for reference in ring:
        arc = arcs[arc_index(reference)]
        if reference < 0:
            arc = arc[::-1]
        points.extend(arc[1:] if points else arc)
    return points


# --- simplification and clipping ------------------------------------------------------------------


def simplify(points: Sequence[Point], tolerance: float) -> list[Point]:
    """Douglas-Peucker simplification that keeps both end points (so arcs shared by two countries
    stay identical on both sides of a border)."""
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (ax, ay), (bx, by) = points[first], points[last]
        dx, dy = bx - ax, by - ay
        length = math.hypot(dx, dy)
        farthest, distance = -1, tolerance
        for i in range(first + 1, last):
            px, py = points[i]
            if length == 0:
                d = math.hypot(px - ax, py - ay)
            else:
                d = abs(dy * px - dx * py + bx * ay - by * ax) / length
            if d > distance:
                farthest, distance = i, d
        if farthest != -1:
            keep[farthest] = True
            stack.append((first, farthest))
            stack.append((farthest, last))
    return [p for p, kept in zip(points, keep, strict=True) if kept]


def clip_ring(points: Sequence[Point], left: float, top: float, right: float, bottom: float) -> list[Point]:
    """Sutherland-Hodgman clipping of a closed ring to a rectangle (edges may run along the rectangle,
    which is why the caller clips to a rectangle a little larger than the view box)."""

    def clip(
        ring: list[Point],
        inside,
        cross,  # type: ignore[no-untyped-def]
    ) -> list[Point]:
        out: list[Point] = []
        if not ring:
            return out
        previous = ring[-1]
        for current in ring:
            if inside(current):
                if not inside(previous):
                    out.append(cross(previous, current))
                out.append(current)
            elif inside(previous):
                out.append(cross(previous, current))
            previous = current
        return out

    def at_x(x: float):  # type: ignore[no-untyped-def]
        return lambda p, q: (x, p[1] + (q[1] - p[1]) * (x - p[0]) / (q[0] - p[0]))

    def at_y(y: float):  # type: ignore[no-untyped-def]
        return lambda p, q: (p[0] + (q[0] - p[0]) * (y - p[1]) / (q[1] - p[1]), y)

    ring = list(points)
    if ring and ring[0] == ring[-1]:
        ring = ring[:-1]
    ring = clip(ring, lambda p: p[0] >= left, at_x(left))
    ring = clip(ring, lambda p: p[0] <= right, at_x(right))
    ring = clip(ring, lambda p: p[1] >= top, at_y(top))
    ring = clip(ring, lambda p: p[1] <= bottom, at_y(bottom))
    return ring


def ring_area(points: Sequence[tuple[float, float]]) -> float:
    """Absolute area of a ring (shoelace formula)."""
    total = 0.0
    for (ax, ay), (bx, by) in zip(points, [*points[1:], points[0]], strict=True):
        total += ax * by - bx * ay
    return abs(total) / 2


def round_ring(points: Sequence[Point]) -> list[tuple[int, int]]:
    """Integer coordinates without repeated consecutive points (or a closing point)."""
    out: list[tuple[int, int]] = []
    for x, y in points:
        p = (round(x), round(y))
        if not out or out[-1] != p:
            out.append(p)
    while len(out) > 1 and out[0] == out[-1]:
        out.pop()
    return out


def path_data(rings: Iterable[Sequence[tuple[int, int]]]) -> str:
    """Compact SVG path data: an absolute move, then relative lines, one closed sub-path per ring."""
    parts: list[str] = []
    for ring in rings:
        (x0, y0), rest = ring[0], ring[1:]
        parts.append(f"M{x0} {y0}")
        line: list[str] = []
        px, py = x0, y0
        for x, y in rest:
            dx, dy = x - px, y - py
            line.append(f"{dx}" + (f"{dy}" if dy < 0 else f" {dy}"))
            px, py = x, y
        if line:
            parts.append("l" + " ".join(line).replace(" -", "-"))
        parts.append("z")
    return "".join(parts)


# --- the base map ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaseMap:
    """Projected outlines ready for SVG: Viet Nam and its neighbours, as path data."""

    width: int
    height: int
    vietnam: str
    neighbours: str

    def to_json(self) -> dict:
        """A JSON-serialisable form, for the cache file."""
        return {
            "width": self.width,
            "height": self.height,
            "vietnam": self.vietnam,
            "neighbours": self.neighbours,
        }

    @classmethod
    def from_json(cls, data: dict) -> BaseMap:
        """The inverse of :meth:`to_json`."""
        return cls(int(data["width"]), int(data["height"]), str(data["vietnam"]), str(data["neighbours"]))


def country_rings(
    topology: dict,
    country_ids: Sequence[str],
    frame: Frame = FRAME,
    tolerance: float = 0.6,
    min_area: float = 1.0,
    margin: float = 8.0,
) -> dict[str, list[list[tuple[int, int]]]]:
    """Projected, simplified, clipped and rounded rings of the countries with these numeric ids.

    Arcs are simplified once each, so a border shared by two countries is the same line on both sides;
    rings are clipped to the view box plus *margin* (so clipping edges stay out of sight) and rings
    smaller than *min_area* square units are dropped.
    """
    geometries = {
        str(g.get("id")): g
        for g in topology["objects"]["countries"]["geometries"]
        if str(g.get("id")) in country_ids
    }
    needed = {
        arc_index(ref)
        for g in geometries.values()
        for polygon in geometry_polygons(g)
        for ring in polygon
        for ref in ring
    }
    arcs = {
        i: simplify([frame.project(lon, lat) for lon, lat in points], tolerance)
        for i, points in decode_arcs(topology, needed).items()
    }
    box = (-margin, -margin, frame.width + margin, frame.height + margin)
    result: dict[str, list[list[tuple[int, int]]]] = {}
    for country_id in country_ids:
        rings: list[list[tuple[int, int]]] = []
        for polygon in geometry_polygons(geometries.get(country_id, {})):
            for ring in polygon:
                clipped = round_ring(clip_ring(ring_points(ring, arcs), *box))
                if len(clipped) >= 3 and ring_area(clipped) >= min_area:
                    rings.append(clipped)
        result[country_id] = rings
    return result


def build_base_map(topology_path: Path, frame: Frame = FRAME) -> BaseMap:
    """Read a world-atlas TopoJSON file and build the base map of Viet Nam with its neighbours."""
    topology = json.loads(Path(topology_path).read_text(encoding="utf-8"))
    rings = country_rings(topology, (VIETNAM_ID, *NEIGHBOUR_IDS), frame)
    neighbours = [ring for cid in NEIGHBOUR_IDS for ring in rings[cid]]
    return BaseMap(frame.width, frame.height, path_data(rings[VIETNAM_ID]), path_data(neighbours))


# --- labels ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelPlacement:
    """Where a marker's label goes: the text anchor point and SVG text-anchor."""

    x: int
    y: int
    anchor: str  # "start", "end" or "middle"


def text_box(
    x: float,
    y: float,
    lines: Sequence[str],
    font_size: float,
    anchor: str = "middle",
    line_height: float = 1.15,
    char_width: float = 0.58,
) -> tuple[float, float, float, float]:
    """Approximate box (left, top, right, bottom) of SVG text whose first baseline is at (x, y)."""
    width = max((len(line) for line in lines), default=0) * font_size * char_width
    left = {"start": x, "end": x - width}.get(anchor, x - width / 2)
    bottom = y + font_size * 0.3 + font_size * line_height * (len(lines) - 1)
    return (left, y - font_size, left + width, bottom)


def place_labels(
    markers: Sequence[tuple[float, float, float, str]],
    font_size: float,
    bounds: tuple[float, float],
    char_width: float = 0.58,
    obstacles: Sequence[tuple[float, float, float, float]] = (),
) -> list[LabelPlacement | None]:
    """Greedy placement of one label per marker (x, y, radius, text), largest markers first: try right,
    left, above and below; a label that would overlap a placed label or another marker, or leave the
    view box, is left out (None) — the name stays in the marker's accessible name and in the table.
    *obstacles* are boxes (left, top, right, bottom) already taken, such as other labels of the map."""
    boxes: list[tuple[float, float, float, float]] = list(obstacles)
    circles = [(x, y, r) for x, y, r, _ in markers]
    result: list[LabelPlacement | None] = [None] * len(markers)
    order = sorted(range(len(markers)), key=lambda i: -markers[i][2])
    width_limit, height_limit = bounds

    def overlaps(box: tuple[float, float, float, float], own: int) -> bool:
        left, top, right, bottom = box
        if left < 0 or top < 0 or right > width_limit or bottom > height_limit:
            return True
        for other in boxes:
            if left < other[2] and other[0] < right and top < other[3] and other[1] < bottom:
                return True
        for i, (cx, cy, r) in enumerate(circles):
            if i == own:
                continue
            nearest_x, nearest_y = min(max(cx, left), right), min(max(cy, top), bottom)
            if math.hypot(cx - nearest_x, cy - nearest_y) < r:
                return True
        return False

    for i in order:
        x, y, r, text = markers[i]
        width = len(text) * font_size * char_width
        gap = 2.0
        candidates = [
            (LabelPlacement(round(x + r + gap), round(y + font_size * 0.35), "start"),
             (x + r + gap, y - font_size / 2, x + r + gap + width, y + font_size / 2)),
            (LabelPlacement(round(x - r - gap), round(y + font_size * 0.35), "end"),
             (x - r - gap - width, y - font_size / 2, x - r - gap, y + font_size / 2)),
            (LabelPlacement(round(x), round(y - r - gap), "middle"),
             (x - width / 2, y - r - gap - font_size, x + width / 2, y - r - gap)),
            (LabelPlacement(round(x), round(y + r + gap + font_size * 0.8), "middle"),
             (x - width / 2, y + r + gap, x + width / 2, y + r + gap + font_size)),
        ]  # fmt: skip
        for placement, box in candidates:
            if not overlaps(box, i):
                boxes.append(box)
                result[i] = placement
                break
    return result
