"""The base map: TopoJSON decoding, projection, simplification, clipping and label placement."""

from __future__ import annotations

import json
import re

import pytest

from archive.map import geometry
from archive.map.geometry import DEFAULT_SOURCE, FRAME

TOPOLOGY = json.loads(DEFAULT_SOURCE.read_text(encoding="utf-8")) if DEFAULT_SOURCE.exists() else None
needs_atlas = pytest.mark.skipif(TOPOLOGY is None, reason="node_modules/world-atlas is not installed")


def _inside(point: tuple[float, float], rings: list[list[tuple[int, int]]]) -> bool:
    """Even-odd point-in-polygon test over every ring."""
    x, y = point
    inside = False
    for ring in rings:
        for (ax, ay), (bx, by) in zip(ring, [*ring[1:], ring[0]], strict=True):
            if (ay > y) != (by > y) and x < ax + (bx - ax) * (y - ay) / (by - ay):
                inside = not inside
    return inside


def test_arcs_are_delta_decoded_with_the_transform_and_reversed_arcs_join_rings():
    topology = {
        "transform": {"scale": [0.5, 2.0], "translate": [100.0, 10.0]},
        "arcs": [[[0, 0], [2, 0], [0, 1]], [[2, 1], [-2, 0], [0, -1]]],
    }
    arcs = geometry.decode_arcs(topology)
    assert arcs[0] == [(100.0, 10.0), (101.0, 10.0), (101.0, 12.0)]
    assert arcs[1] == [(101.0, 12.0), (100.0, 12.0), (100.0, 10.0)]
    # ~1 is arc 1 reversed: the ring runs back along it, writing the shared end point once.
    ring = geometry.ring_points([0, 1], arcs)
    assert ring == [(100.0, 10.0), (101.0, 10.0), (101.0, 12.0), (100.0, 12.0), (100.0, 10.0)]
    assert geometry.ring_points([~1], arcs) == arcs[1][::-1]


@needs_atlas
def test_vietnam_outline_decodes_into_the_view_box_where_its_places_are():
    rings = geometry.country_rings(TOPOLOGY, (geometry.VIETNAM_ID, "418"))
    vietnam, laos = rings[geometry.VIETNAM_ID], rings["418"]
    assert vietnam and laos
    points = [p for ring in vietnam for p in ring]
    # Every point of Viet Nam's outline lies in the view box, and the outline spans the country:
    # from Lũng Cú (23.4°N) to the Cà Mau cape (8.6°N), from 102.1°E to 109.5°E.
    assert all(FRAME.contains(x, y) for x, y in points)
    xs, ys = [x for x, _ in points], [y for _, y in points]
    assert min(ys) == pytest.approx(FRAME.project(105.3, 23.39)[1], abs=6)
    assert max(ys) == pytest.approx(FRAME.project(104.8, 8.56)[1], abs=6)
    assert min(xs) == pytest.approx(FRAME.project(102.14, 22.4)[0], abs=6)
    assert max(xs) == pytest.approx(FRAME.project(109.46, 12.2)[0], abs=6)
    # Hà Nội and Hồ Chí Minh City fall inside Viet Nam; Vientiane inside Laos, not Viet Nam.
    hanoi, saigon, vientiane = (
        FRAME.project(105.85, 21.03),
        FRAME.project(106.7, 10.78),
        FRAME.project(102.6, 17.97),
    )
    assert _inside(hanoi, vietnam) and _inside(saigon, vietnam)
    assert _inside(vientiane, laos) and not _inside(vientiane, vietnam)
    assert hanoi[1] < saigon[1]  # north is up


@needs_atlas
def test_base_map_is_small_rounded_path_data():
    base = geometry.build_base_map(DEFAULT_SOURCE)
    assert (base.width, base.height) == (FRAME.width, FRAME.height)
    for data in (base.vietnam, base.neighbours):
        assert re.fullmatch(r"(M-?\d+ -?\d+(l[-\d ]+)?z)+", data), data[:80]
    assert len(base.vietnam) + len(base.neighbours) < 12_000
    assert geometry.BaseMap.from_json(json.loads(json.dumps(base.to_json()))) == base


def test_path_data_gives_back_the_points():
    rings = [[(10, 20), (15, 18), (12, 30)], [(0, 0), (-3, 4), (5, 5)]]
    data = geometry.path_data(rings)
    decoded = []
    for move, lines in re.findall(r"M(-?\d+ -?\d+)l([-\d ]+)z", data):
        x, y = map(int, move.split())
        ring = [(x, y)]
        numbers = [int(n) for n in re.findall(r"-?\d+", lines)]
        for dx, dy in zip(numbers[::2], numbers[1::2], strict=True):
            x, y = x + dx, y + dy
            ring.append((x, y))
        decoded.append(ring)
    assert decoded == rings


def test_simplify_keeps_ends_and_corners_and_drops_near_straight_points():
    line = [(0.0, 0.0), (1.0, 0.1), (2.0, -0.1), (3.0, 0.0), (3.0, 5.0)]
    assert geometry.simplify(line, 0.5) == [(0.0, 0.0), (3.0, 0.0), (3.0, 5.0)]
    assert geometry.simplify(line, 0.05) == line


def test_clip_ring_cuts_a_ring_to_the_rectangle():
    square = [(-5.0, -5.0), (5.0, -5.0), (5.0, 5.0), (-5.0, 5.0)]
    clipped = geometry.clip_ring(square, 0, 0, 10, 10)
    assert sorted(clipped) == [(0.0, 0.0), (0.0, 5.0), (5.0, 0.0), (5.0, 5.0)]
    assert geometry.clip_ring(square, 20, 20, 30, 30) == []


def test_labels_never_overlap_and_avoid_other_names():
    markers = [
        (100.0, 100.0, 8.0, "Hà Nội"),
        (110.0, 104.0, 6.0, "Bắc Ninh"),
        (104.0, 96.0, 5.0, "Thái Nguyên"),
    ]
    taken = (0.0, 0.0, 50.0, 50.0)
    placements = geometry.place_labels(markers, 13, (600, 600), obstacles=[taken])
    boxes = []
    for (*_, text), placement in zip(markers, placements, strict=True):
        if placement is None:
            continue
        boxes.append(geometry.text_box(placement.x, placement.y, [text], 13, placement.anchor))
    assert boxes, "at least the largest marker gets its label"
    for i, a in enumerate(boxes):
        for b in [*boxes[i + 1 :], taken]:
            assert not (a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1)
    # A label that cannot fit anywhere is left out rather than drawn off the map.
    assert geometry.place_labels([(2.0, 2.0, 2.0, "A very long name")], 13, (20, 20)) == [None]
