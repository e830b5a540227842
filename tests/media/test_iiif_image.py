"""IIIF Image API 3.0: request parsing, resolution, stored tiles, rendering from the pyramid, info.json."""

from __future__ import annotations

import io
import math
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageDraw, ImageStat

from media import iiif
from media.iiif import (
    IIIFRequestError,
    ImageRequest,
    info_json,
    parse_request,
    render,
    resolve,
    size_for,
    tile_for,
)
from media.pyramid import PyramidInfo, build_pyramid, tile_path

LIMITS = {"max_width": 2000, "max_height": 1500, "max_area": 2_000_000}


def sample_image(width: int, height: int) -> Image.Image:
    """A smooth, recognisable RGB test image (gradients and a few solid shapes)."""
    with Image.linear_gradient("L") as vertical, Image.radial_gradient("L") as radial:
        red = vertical.rotate(90).resize((width, height))
        green = vertical.resize((width, height))
        blue = radial.resize((width, height))
    image = Image.merge("RGB", (red, green, blue))
    for band in (red, green, blue):
        band.close()
    draw = ImageDraw.Draw(image)
    draw.rectangle((width // 10, height // 10, width // 3, height // 3), fill=(200, 30, 40))
    draw.ellipse((width // 2, height // 2, width * 9 // 10, height * 9 // 10), fill=(20, 60, 200))
    return image


@pytest.fixture(scope="module")
def pyramids(tmp_path_factory) -> dict[str, tuple[Path, PyramidInfo, Image.Image]]:
    """Pyramids of a 1300x900 image, a 1x1500 image and a 700x530 image, with their originals."""
    root = tmp_path_factory.mktemp("iiif")
    built = {}
    for name, size in (("wide", (1300, 900)), ("thin", (1, 1500)), ("small", (700, 530))):
        original = sample_image(*size)
        source = root / f"{name}.png"
        original.save(source)
        info = build_pyramid(source, root / name, max_pixels=10_000_000, quality=95)
        source.unlink()  # rendering must never need the original
        built[name] = (root / name, info, original)
    yield built
    for _, _, original in built.values():
        original.close()


def request(path: str, width: int = 1300, height: int = 900, **limits):
    """Parse and resolve a request written as region/size/rotation/quality.format."""
    region, size, rotation, quality_format = path.split("/")
    return resolve(parse_request(region, size, rotation, quality_format), width, height, **(LIMITS | limits))


def decode(data: bytes) -> Image.Image:
    """Decode an encoded image fully."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel between two images of the same size."""
    with a.convert("RGB") as ra, b.convert("RGB") as rb, ImageChops.difference(ra, rb) as diff:
        return sum(ImageStat.Stat(diff).mean) / 3


# --- parsing ---------------------------------------------------------------------------------------------

VALID_REGIONS = [
    "full",
    "square",
    "0,0,10,10",
    "125,15,120,140",
    "0,0,1,1",
    "pct:41.6,7.5,40,70",
    "pct:0,0,100,100",
]
VALID_SIZES = [
    "max", "^max", "150,", "^360,", ",150", "^,240", "pct:50", "^pct:120", "pct:0.5",
    "225,100", "^360,360", "!225,100", "^!360,360",
]  # fmt: skip
VALID_ROTATIONS = ["0", "90", "180", "270", "360", "22.5", "!0", "!180", "!345", "0.5", "359.999"]
VALID_QUALITY_FORMATS = [
    f"{q}.{f}" for q in ("default", "color", "gray", "bitonal") for f in ("jpg", "png", "webp")
]


@pytest.mark.parametrize("region", VALID_REGIONS)
@pytest.mark.parametrize("size", VALID_SIZES)
def test_every_valid_region_and_size_form_parses(region, size):
    parsed = parse_request(region, size, "0", "default.jpg")
    assert isinstance(parsed, ImageRequest)


@pytest.mark.parametrize("rotation", VALID_ROTATIONS)
@pytest.mark.parametrize("quality_format", VALID_QUALITY_FORMATS)
def test_every_valid_rotation_quality_and_format_parses(rotation, quality_format):
    parsed = parse_request("full", "max", rotation, quality_format)
    assert parsed.mirror == rotation.startswith("!")
    assert parsed.rotation == float(rotation.lstrip("!"))
    assert f"{parsed.quality}.{parsed.format}" == quality_format


def test_parsed_values():
    parsed = parse_request("pct:41.6,7.5,40,70", "^!360,240", "!22.5", "gray.png")
    assert parsed.region == "percent" and parsed.region_values == (41.6, 7.5, 40.0, 70.0)
    assert (parsed.size, parsed.size_w, parsed.size_h, parsed.upscale) == ("confined", 360, 240, True)
    assert (parsed.rotation, parsed.mirror, parsed.quality, parsed.format) == (22.5, True, "gray", "png")
    parsed = parse_request("1,2,3,4", "pct:12.5", "90", "default.jpg")
    assert (parsed.region, parsed.region_values) == ("pixels", (1, 2, 3, 4))
    assert (parsed.size, parsed.size_pct, parsed.upscale) == ("pct", 12.5, False)
    assert parse_request("full", "150,", "0", "default.jpg").size == "w"
    assert parse_request("full", ",150", "0", "default.jpg").size == "h"
    assert parse_request("full", "150,100", "0", "default.jpg").size == "wh"


BAD_REGIONS = [
    "", "FULL", "Full", " full", "full ", "full\n", "max", "0,0,0,10", "0,0,10,0", "-1,0,10,10", "1,2,3",
    "1,2,3,4,5", "0,0,10,10,", "1.5,0,10,10", "+1,0,10,10", "0, 0,10,10", "1e2,0,10,10", "pct:1,2,3",
    "pct:.5,0,10,10", "pct:1.,0,10,10", "pct:0,0,0,10", "pct:0,0,10,0.0", "pct:-1,0,10,10", "PCT:0,0,10,10",
    "pct: 0,0,10,10", "square ", "squares", "０,0,10,10", "٣,0,10,10", "1" * 200 + ",0,1,1", "pct:nan,0,1,1",
    "pct:inf,0,1,1", "0x1,0,1,1",
]  # fmt: skip
BAD_SIZES = [
    "", "full", "Max", "^", "^^max", "!max", "max ", "0,", ",0", "0,10", "10,0", "!0,10", "!10,", "!,10", ",",
    "10,10,", "10.5,", "-10,", "+10,", "pct:", "pct:0", "pct:0.0", "pct:+5", "pct:1e2", "pct:.5", "pct:-5",
    "^pct:1e2", "w,h", "!^10,10", "pct:10%", "1" * 200 + ",", "^,", "pct:inf", "١٠,",
]  # fmt: skip
BAD_ROTATIONS = [
    "", "-1", "+90", "360.1", "361", "1e2", "90 ", " 90", "!!90", ".5", "5.", "nan", "inf", "0x10", "!",
    "90!", "٩٠", "9" * 400, "1_0",
]  # fmt: skip
BAD_QUALITY_FORMATS = [
    "", "default", "default.", ".jpg", "default.tif", "default.gif", "default.jp2", "default.pdf", "grey.jpg",
    "native.jpg", "Default.jpg", "default.JPG", "default.jpg.png", "default.jpeg", "default .jpg", "color",
]  # fmt: skip


@pytest.mark.parametrize("region", BAD_REGIONS)
def test_malformed_regions_are_rejected(region):
    with pytest.raises(IIIFRequestError) as caught:
        parse_request(region, "max", "0", "default.jpg")
    assert caught.value.status == 400


@pytest.mark.parametrize("size", BAD_SIZES)
def test_malformed_sizes_are_rejected(size):
    with pytest.raises(IIIFRequestError) as caught:
        parse_request("full", size, "0", "default.jpg")
    assert caught.value.status == 400


@pytest.mark.parametrize("rotation", BAD_ROTATIONS)
def test_malformed_rotations_are_rejected(rotation):
    with pytest.raises(IIIFRequestError) as caught:
        parse_request("full", "max", rotation, "default.jpg")
    assert caught.value.status == 400


@pytest.mark.parametrize("quality_format", BAD_QUALITY_FORMATS)
def test_unknown_qualities_and_formats_are_rejected(quality_format):
    with pytest.raises(IIIFRequestError) as caught:
        parse_request("full", "max", "0", quality_format)
    assert caught.value.status == 400


def test_request_error_is_a_value_error_with_a_status():
    error = IIIFRequestError("nope")
    assert isinstance(error, ValueError) and error.status == 400
    assert IIIFRequestError("later", status=501).status == 501


# --- resolution --------------------------------------------------------------------------------------------


def geometry(resolved) -> tuple[int, int, int, int, int, int]:
    """Region and output size of a resolved request."""
    return resolved.x, resolved.y, resolved.w, resolved.h, resolved.out_w, resolved.out_h


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("full/max/0/default.jpg", (0, 0, 1300, 900, 1300, 900)),
        ("square/max/0/default.jpg", (200, 0, 900, 900, 900, 900)),
        ("100,50,200,100/max/0/default.jpg", (100, 50, 200, 100, 200, 100)),
        ("1200,800,500,500/max/0/default.jpg", (1200, 800, 100, 100, 100, 100)),
        ("0,0,99999999999999999999,10/max/0/default.jpg", (0, 0, 1300, 10, 1300, 10)),
        ("pct:50,50,100,100/max/0/default.jpg", (650, 450, 650, 450, 650, 450)),
        ("full/650,/0/default.jpg", (0, 0, 1300, 900, 650, 450)),
        ("full/,450/0/default.jpg", (0, 0, 1300, 900, 650, 450)),
        ("full/pct:50/0/default.jpg", (0, 0, 1300, 900, 650, 450)),
        ("full/pct:100/0/default.jpg", (0, 0, 1300, 900, 1300, 900)),
        ("full/650,100/0/default.jpg", (0, 0, 1300, 900, 650, 100)),
        ("full/1300,900/0/default.jpg", (0, 0, 1300, 900, 1300, 900)),
        ("full/!650,650/0/default.jpg", (0, 0, 1300, 900, 650, 450)),
        ("full/!1000,300/0/default.jpg", (0, 0, 1300, 900, 433, 300)),
        ("full/!1300,2000/0/default.jpg", (0, 0, 1300, 900, 1300, 900)),
        ("full/^1301,/0/default.jpg", (0, 0, 1300, 900, 1301, 901)),
        ("full/^,1000/0/default.jpg", (0, 0, 1300, 900, 1444, 1000)),
        ("full/^pct:120/0/default.jpg", (0, 0, 1300, 900, 1560, 1080)),
        ("full/^1500,1000/0/default.jpg", (0, 0, 1300, 900, 1500, 1000)),
        ("full/^!1400,1400/0/default.jpg", (0, 0, 1300, 900, 1400, 969)),
        ("full/^650,/0/default.jpg", (0, 0, 1300, 900, 650, 450)),
        ("0,0,1,1/max/0/default.jpg", (0, 0, 1, 1, 1, 1)),
        ("0,0,1,1/^max/0/default.jpg", (0, 0, 1, 1, 1414, 1414)),  # limited by maxArea
    ],
)
def test_resolution_geometry(path, expected):
    assert geometry(request(path)) == expected


def test_best_fit_that_would_enlarge_needs_the_caret():
    """As the official validator (size_noup) requires: !w,h larger than the region is a 400."""
    with pytest.raises(IIIFRequestError) as error:
        request("full/!10000,10000/0/default.jpg")
    assert error.value.status == 400


@pytest.mark.parametrize(
    ("path", "size", "expected"),
    [
        # The examples of the specification, on its 300 x 200 image.
        ("125,15,120,140/max/0/default.jpg", (300, 200), (125, 15, 120, 140, 120, 140)),
        ("pct:41.6,7.5,40,70/max/0/default.jpg", (300, 200), (125, 15, 120, 140, 120, 140)),
        ("125,15,200,200/max/0/default.jpg", (300, 200), (125, 15, 175, 185, 175, 185)),
        ("pct:41.6,7.5,66.6,100/max/0/default.jpg", (300, 200), (125, 15, 175, 185, 175, 185)),
        ("full/150,/0/default.jpg", (300, 200), (0, 0, 300, 200, 150, 100)),
        ("full/!225,100/0/default.jpg", (300, 200), (0, 0, 300, 200, 150, 100)),
        ("full/^!360,360/0/default.jpg", (300, 200), (0, 0, 300, 200, 360, 240)),
        ("full/^360,/0/default.jpg", (300, 200), (0, 0, 300, 200, 360, 240)),
        ("full/225,100/0/default.jpg", (300, 200), (0, 0, 300, 200, 225, 100)),
        ("square/max/0/default.jpg", (200, 300), (0, 50, 200, 200, 200, 200)),
    ],
)
def test_resolution_matches_the_specification_examples(path, size, expected):
    assert geometry(request(path, *size)) == expected


@pytest.mark.parametrize(
    "path",
    [
        "1300,0,10,10/max/0/default.jpg",  # entirely outside
        "0,900,10,10/max/0/default.jpg",
        "99999999999999999999,0,10,10/max/0/default.jpg",
        "pct:100,0,10,10/max/0/default.jpg",
        "pct:0,0,0.01,0.01/max/0/default.jpg",  # less than a pixel
        "full/1301,/0/default.jpg",  # upscaling without ^
        "full/,901/0/default.jpg",
        "full/pct:101/0/default.jpg",
        "full/1301,900/0/default.jpg",
        "full/1300,901/0/default.jpg",
        "full/^2001,/0/default.jpg",  # beyond maxWidth
        "full/^,1501/0/default.jpg",  # beyond maxHeight
        "full/^2000,1001/0/default.jpg",  # beyond maxArea
        "full/^pct:150/0/default.jpg",
        "full/^99999999999999999999,/0/default.jpg",
        "full/^pct:99999999999999999999/0/default.jpg",
        "0,0,1300,1/10,/0/default.jpg",  # zero pixels high
        "0,0,1,900/,10/0/default.jpg",  # zero pixels wide
        "full/pct:0.01/0/default.jpg",
    ],
)
def test_impossible_requests_are_400(path):
    with pytest.raises(IIIFRequestError) as caught:
        request(path)
    assert caught.value.status == 400


def test_max_respects_the_server_limits():
    assert geometry(request("full/max/0/default.jpg", 4000, 1000, max_area=10**8)) == (
        0,
        0,
        4000,
        1000,
        2000,
        500,
    )
    assert geometry(request("full/max/0/default.jpg", 1000, 4000, max_area=10**8)) == (
        0,
        0,
        1000,
        4000,
        375,
        1500,
    )
    resolved = request("full/max/0/default.jpg", 4000, 3000)
    assert resolved.out_w * resolved.out_h <= LIMITS["max_area"]
    assert (resolved.out_w, resolved.out_h) == (1632, 1224)
    upscaled = request("full/^max/0/default.jpg", 300, 200, max_width=1000, max_height=1000, max_area=10**6)
    assert (upscaled.out_w, upscaled.out_h) == (1000, 667)
    confined = request("full/^!10000,10000/0/default.jpg")
    assert confined.out_w <= 2000 and confined.out_h <= 1500 and confined.out_w * confined.out_h <= 2_000_000
    assert abs(confined.out_w / confined.out_h - 1300 / 900) < 0.01


def test_rotation_mirror_quality_and_format_are_carried_through():
    resolved = request("full/max/!22.5/gray.webp")
    assert (resolved.rotation, resolved.mirror, resolved.quality, resolved.format) == (
        22.5,
        True,
        "gray",
        "webp",
    )
    assert resolved.media_type == "image/webp"


# --- stored tiles ------------------------------------------------------------------------------------------


def test_every_stored_tile_is_found(pyramids):
    for name in ("wide", "thin", "small"):
        _, info, _ = pyramids[name]
        for sf in info.scale_factors:
            cols, rows = info.tile_counts(sf)
            for row in range(rows):
                for col in range(cols):
                    x, y, w, h = info.tile_region(sf, col, row)
                    tw, th = info.tile_pixel_size(sf, col, row)
                    region = "full" if (x, y, w, h) == (0, 0, info.width, info.height) else f"{x},{y},{w},{h}"
                    for size in (f"{tw},{th}", f"{tw},"):
                        resolved = request(f"{region}/{size}/0/default.jpg", info.width, info.height)
                        if (resolved.out_w, resolved.out_h) == (tw, th):
                            assert tile_for(resolved, info) == (sf, col, row), (name, size, sf, col, row)
                    resolved = request(f"{x},{y},{w},{h}/{tw},{th}/0/color.jpg", info.width, info.height)
                    assert tile_for(resolved, info) == (sf, col, row)


def test_tile_with_width_only_size(pyramids):
    _, info, _ = pyramids["wide"]
    assert tile_for(request("1024,512,276,388/276,/0/default.jpg"), info) == (1, 2, 1)
    assert tile_for(request("1024,0,276,900/138,/0/default.jpg"), info) == (2, 1, 0)
    assert tile_for(request("full/325,/0/default.jpg"), info) == (4, 0, 0)
    assert tile_for(request("0,0,512,512/max/0/default.jpg"), info) == (1, 0, 0)
    assert tile_for(request("0,0,1024,1024/512,/0/default.jpg"), info) == (2, 0, 0)  # cropped to the tile


@pytest.mark.parametrize(
    "path",
    [
        "0,0,512,512/512,/90/default.jpg",
        "0,0,512,512/512,/!0/default.jpg",
        "0,0,512,512/512,/0/gray.jpg",
        "0,0,512,512/512,/0/default.png",
        "0,0,512,512/256,/0/default.jpg",
        "1,0,512,512/512,/0/default.jpg",
        "0,0,511,512/511,/0/default.jpg",
        "0,0,1024,900/511,/0/default.jpg",  # the level-2 tile region, but not its size
        "full/max/0/default.jpg",
    ],
)
def test_other_requests_are_not_tiles(pyramids, path):
    _, info, _ = pyramids["wide"]
    assert tile_for(request(path), info) is None


def test_stored_sizes_are_found(pyramids):
    _, info, _ = pyramids["wide"]
    assert size_for(request("full/650,450/0/default.jpg"), info) == (650, 450)
    assert size_for(request("full/max/0/default.jpg"), info) == (1300, 900)
    assert size_for(request("full/651,450/0/default.jpg"), info) is None
    assert size_for(request("full/650,450/0/default.png"), info) is None


# --- rendering ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "size", "mode", "fmt"),
    [
        ("full/max/0/default.jpg", (1300, 900), "RGB", "JPEG"),
        ("full/max/0/color.png", (1300, 900), "RGB", "PNG"),
        ("full/max/0/default.webp", (1300, 900), "RGB", "WEBP"),
        ("full/200,/0/gray.jpg", (200, 138), "L", "JPEG"),
        ("full/200,/0/gray.png", (200, 138), "L", "PNG"),
        ("full/200,/0/bitonal.png", (200, 138), "1", "PNG"),
        ("full/200,/0/bitonal.jpg", (200, 138), "L", "JPEG"),
        ("square/100,100/90/default.jpg", (100, 100), "RGB", "JPEG"),
        ("0,0,600,300/300,/90/default.jpg", (150, 300), "RGB", "JPEG"),
        ("0,0,600,300/300,/270/default.png", (150, 300), "RGB", "PNG"),
        ("0,0,600,300/300,/180/default.png", (300, 150), "RGB", "PNG"),
        ("0,0,600,300/300,/!90/default.png", (150, 300), "RGB", "PNG"),
        ("0,0,600,300/300,/360/default.png", (300, 150), "RGB", "PNG"),
        ("0,0,600,300/300,/!0/default.png", (300, 150), "RGB", "PNG"),
        ("pct:10,20,30,40/^!700,700/0/default.png", (700, 646), "RGB", "PNG"),
        ("100,100,10,10/^100,50/0/default.png", (100, 50), "RGB", "PNG"),
        ("1200,800,200,200/max/0/default.jpg", (100, 100), "RGB", "JPEG"),
    ],
)
def test_render_size_mode_and_format(pyramids, path, size, mode, fmt):
    directory, info, _ = pyramids["wide"]
    with decode(render(directory, info, request(path))) as image:
        assert (image.size, image.mode, image.format) == (size, mode, fmt)


@pytest.mark.parametrize(
    ("fmt", "mode", "corner"),
    [("jpg", "RGB", (255, 255, 255)), ("png", "RGBA", (0, 0, 0, 0)), ("webp", "RGBA", None)],
)
def test_arbitrary_rotation_background(pyramids, fmt, mode, corner):
    directory, info, _ = pyramids["wide"]
    with decode(render(directory, info, request(f"0,0,400,200/max/30/default.{fmt}"))) as image:
        expected_w = 400 * math.cos(math.radians(30)) + 200 * math.sin(math.radians(30))
        expected_h = 400 * math.sin(math.radians(30)) + 200 * math.cos(math.radians(30))
        assert abs(image.width - expected_w) <= 2 and abs(image.height - expected_h) <= 2
        assert image.mode == mode
        if corner is not None and fmt == "jpg":
            assert all(v > 245 for v in image.getpixel((0, 0)))
        elif corner is not None:
            assert image.getpixel((0, 0)) == corner
        else:
            assert image.getpixel((0, 0))[3] == 0


def test_gray_and_bitonal_keep_transparency_on_png(pyramids):
    directory, info, _ = pyramids["wide"]
    with decode(render(directory, info, request("0,0,400,200/max/30/gray.png"))) as image:
        assert image.mode == "LA" and image.getpixel((0, 0))[1] == 0
    with decode(render(directory, info, request("0,0,400,200/max/30/bitonal.png"))) as image:
        assert image.mode == "LA" and image.getpixel((0, 0))[1] == 0
        assert {value for value, alpha in image.getdata()} <= {0, 255}


def test_bitonal_is_black_and_white(pyramids):
    directory, info, _ = pyramids["wide"]
    with decode(render(directory, info, request("full/400,/0/bitonal.png"))) as image:
        assert image.mode == "1"
        with image.convert("L") as grey:
            assert set(grey.getdata()) == {0, 255}


def test_mirroring_happens_before_a_clockwise_rotation(pyramids):
    directory, info, _ = pyramids["wide"]
    # The original's red rectangle is near the top-left corner (130..433, 90..300).
    with decode(render(directory, info, request("full/650,/0/default.png"))) as plain:
        assert plain.getpixel((100, 80))[0] > 180 and plain.getpixel((100, 80))[2] < 80
    with decode(render(directory, info, request("full/650,/!0/default.png"))) as mirrored:
        r, g, b = mirrored.getpixel((650 - 1 - 100, 80))
        assert r > 180 and b < 80
    with decode(render(directory, info, request("full/650,/90/default.png"))) as rotated:
        assert rotated.size == (450, 650)
        r, g, b = rotated.getpixel((450 - 1 - 80, 100))  # clockwise: top-left goes to top-right
        assert r > 180 and b < 80
    with decode(render(directory, info, request("full/650,/!90/default.png"))) as both:
        r, g, b = both.getpixel((450 - 1 - 80, 650 - 1 - 100))  # mirrored, then clockwise
        assert r > 180 and b < 80


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("wide", "full/max/0/default.png"),
        ("wide", "full/650,/0/default.png"),
        ("wide", "full/325,225/0/default.png"),
        ("wide", "full/200,/0/default.png"),
        ("wide", "100,100,1000,700/250,/0/default.png"),
        ("wide", "100,100,1000,700/500,350/0/default.png"),
        ("wide", "100,100,1000,700/max/0/default.png"),
        ("wide", "300,200,700,600/333,/0/default.png"),
        ("wide", "500,400,30,20/^300,200/0/default.png"),
        ("wide", "pct:20,20,60,60/max/0/default.png"),
        ("wide", "1000,600,300,300/pct:50/0/default.png"),
        ("wide", "square/450,/0/default.png"),
        ("thin", "full/max/0/default.png"),
        ("thin", "full/,750/0/default.png"),
        ("thin", "0,700,1,800/1,200/0/default.png"),
        ("small", "full/!300,300/0/default.png"),
        ("small", "400,300,300,230/150,/0/default.png"),
    ],
)
def test_render_matches_a_direct_crop_and_resize_of_the_original(pyramids, name, path):
    directory, info, original = pyramids[name]
    resolved = request(path, info.width, info.height)
    box = (resolved.x, resolved.y, resolved.x + resolved.w, resolved.y + resolved.h)
    with (
        decode(render(directory, info, resolved)) as rendered,
        original.resize((resolved.out_w, resolved.out_h), Image.Resampling.LANCZOS, box=box) as expected,
    ):
        assert rendered.size == expected.size
        assert mean_difference(rendered, expected) < 4


def test_rendering_a_tile_region_gives_the_stored_tile(pyramids):
    directory, info, _ = pyramids["wide"]
    for sf, col, row in [(1, 0, 0), (1, 2, 1), (2, 1, 0), (4, 0, 0)]:
        x, y, w, h = info.tile_region(sf, col, row)
        tw, th = info.tile_pixel_size(sf, col, row)
        resolved = request(f"{x},{y},{w},{h}/{tw},{th}/0/default.png")
        with (
            decode(render(directory, info, resolved)) as rendered,
            Image.open(tile_path(directory, sf, col, row)) as stored,
        ):
            assert rendered.size == stored.size
            assert ImageChops.difference(rendered, stored.convert("RGB")).getbbox() is None


def test_render_only_reads_tiles_of_one_level(pyramids, monkeypatch):
    directory, info, _ = pyramids["wide"]
    opened: list[Path] = []
    real_open = Image.open

    def spying_open(fp, *args, **kwargs):
        if isinstance(fp, str | Path):
            opened.append(Path(fp))
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(iiif.Image, "open", spying_open)
    monkeypatch.setattr(iiif, "TILE_CACHE", iiif._TileCache(32 * 2**20))  # start with no decoded tiles
    render(directory, info, request("900,100,300,300/150,/0/default.jpg"))
    assert opened == [tile_path(directory, 2, 0, 0), tile_path(directory, 2, 1, 0)]
    opened.clear()
    render(
        directory, info, request("901,101,300,300/150,/0/default.jpg")
    )  # neighbouring region: cached tiles
    assert opened == []
    opened.clear()
    render(directory, info, request("520,520,10,10/max/0/default.jpg"))
    assert opened == [tile_path(directory, 1, 1, 1)]
    opened.clear()
    render(directory, info, request("full/100,/0/default.jpg"))
    assert opened == [tile_path(directory, 4, 0, 0)]


# --- info.json ---------------------------------------------------------------------------------------------


def test_info_json(pyramids):
    _, info, _ = pyramids["wide"]
    doc = info_json("https://example.org/iiif/3/abc", info, max_width=1000, max_height=1000, max_area=500_000)
    assert list(doc)[0] == "@context"
    assert doc["@context"] == "http://iiif.io/api/image/3/context.json"
    assert doc["id"] == "https://example.org/iiif/3/abc"
    assert (doc["type"], doc["protocol"], doc["profile"]) == (
        "ImageService3",
        "http://iiif.io/api/image",
        "level2",
    )
    assert (doc["width"], doc["height"]) == (1300, 900)
    assert (doc["maxWidth"], doc["maxHeight"], doc["maxArea"]) == (1000, 1000, 500_000)
    assert doc["sizes"] == [
        {"width": 325, "height": 225},
        {"width": 650, "height": 450},
    ]  # 1300x900 is too big
    assert doc["tiles"] == [{"width": 512, "scaleFactors": [1, 2, 4]}]
    assert doc["extraFormats"] == ["webp"]
    assert doc["extraQualities"] == ["color", "gray", "bitonal"]
    assert set(doc["extraFeatures"]) == {"mirroring", "rotationArbitrary", "sizeUpscaling"}
    more = info_json("x", info, max_width=2000, max_height=2000, max_area=10**7, extra_features=["cors"])
    assert more["extraFeatures"][-1] == "cors"
    assert len(more["sizes"]) == 3


# --- properties --------------------------------------------------------------------------------------------

DIGITS = st.integers(min_value=0, max_value=10**25).map(str)
DECIMALS = st.floats(min_value=0, max_value=1e6, allow_nan=False).map(
    lambda f: f"{f:.3f}".rstrip("0").rstrip(".")
)
JUNK = st.text(alphabet="0123456789.,:!^+-e pctmaxfulsqr%٣０", max_size=16)
NUMBER = st.one_of(DIGITS, DECIMALS, JUNK)
ANY_REGION = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["full", "square"]),
    st.builds(lambda *n: ",".join(n), NUMBER, NUMBER, NUMBER, NUMBER),
    st.builds(lambda *n: "pct:" + ",".join(n), NUMBER, NUMBER, NUMBER, NUMBER),
)
ANY_SIZE = st.builds(
    lambda up, body: up + body,
    st.sampled_from(["", "^", "!", "^!"]),
    st.one_of(
        st.text(max_size=20),
        st.just("max"),
        st.builds(lambda a, b: f"{a},{b}", NUMBER, NUMBER),
        st.builds(lambda a: f"{a},", NUMBER),
        st.builds(lambda a: f",{a}", NUMBER),
        st.builds(lambda a: f"pct:{a}", NUMBER),
    ),
)
ANY_ROTATION = st.one_of(
    st.text(max_size=12), st.builds(lambda m, n: m + n, st.sampled_from(["", "!"]), NUMBER)
)
ANY_QUALITY_FORMAT = st.one_of(
    st.text(max_size=16),
    st.builds(
        lambda q, f: f"{q}.{f}",
        st.sampled_from(["default", "color", "gray", "bitonal", "native", ""]),
        st.sampled_from(["jpg", "png", "webp", "tif", "gif", ""]),
    ),
)


@settings(max_examples=300, deadline=None, database=None)
@given(
    region=ANY_REGION,
    size=ANY_SIZE,
    rotation=ANY_ROTATION,
    quality_format=ANY_QUALITY_FORMAT,
    width=st.integers(min_value=1, max_value=100_000),
    height=st.integers(min_value=1, max_value=100_000),
    max_width=st.integers(min_value=1, max_value=20_000),
    max_height=st.integers(min_value=1, max_value=20_000),
    max_area=st.integers(min_value=1, max_value=10**8),
)
def test_arbitrary_segments_resolve_or_raise_a_request_error(
    region, size, rotation, quality_format, width, height, max_width, max_height, max_area
):
    started = time.perf_counter()
    try:
        parsed = parse_request(region, size, rotation, quality_format)
        resolved = resolve(
            parsed, width, height, max_width=max_width, max_height=max_height, max_area=max_area
        )
    except IIIFRequestError as exc:
        assert exc.status == 400
    else:
        assert 0 <= resolved.x < width and 0 <= resolved.y < height
        assert 1 <= resolved.w <= width - resolved.x and 1 <= resolved.h <= height - resolved.y
        assert 1 <= resolved.out_w <= max_width and 1 <= resolved.out_h <= max_height
        assert resolved.out_w * resolved.out_h <= max_area
        if not parsed.upscale:
            assert resolved.out_w <= resolved.w and resolved.out_h <= resolved.h
    assert time.perf_counter() - started < 0.5


@st.composite
def valid_requests(draw):
    """A valid request path for one of the test pyramids, with the pyramid's name."""
    name = draw(st.sampled_from(["wide", "thin", "small"]))
    width, height = {"wide": (1300, 900), "thin": (1, 1500), "small": (700, 530)}[name]
    kind = draw(st.sampled_from(["full", "square", "pixels", "percent"]))
    if kind == "pixels":
        x = draw(st.integers(0, width - 1))
        y = draw(st.integers(0, height - 1))
        region = f"{x},{y},{draw(st.integers(1, width + 50))},{draw(st.integers(1, height + 50))}"
    elif kind == "percent":
        px, py = draw(st.integers(0, 90)), draw(st.integers(0, 90))
        region = f"pct:{px},{py},{draw(st.integers(10, 100))},{draw(st.integers(10, 100))}"
    else:
        region = kind
    up = draw(st.sampled_from(["", "^"]))
    form = draw(st.sampled_from(["max", "w,", ",h", "pct:n", "w,h", "!w,h"]))
    w, h = draw(st.integers(1, 1600)), draw(st.integers(1, 1600))
    size = {
        "max": "max",
        "w,": f"{w},",
        ",h": f",{h}",
        "pct:n": f"pct:{draw(st.integers(1, 150))}",
        "w,h": f"{w},{h}",
        "!w,h": f"!{w},{h}",
    }[form]
    rotation = draw(st.sampled_from(["", "!"])) + draw(
        st.one_of(
            st.sampled_from(["0", "90", "180", "270", "360"]),
            st.integers(0, 359).map(str),
            DECIMALS.filter(lambda d: float(d) <= 360),
        )
    )
    quality = draw(st.sampled_from(["default", "color", "gray", "bitonal"]))
    fmt = draw(st.sampled_from(["jpg", "png", "webp"]))
    return name, f"{region}/{up}{size}/{rotation}/{quality}.{fmt}"


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
        HealthCheck.too_slow,
    ],
)
@given(case=valid_requests())
def test_valid_requests_render_at_exactly_the_resolved_size(pyramids, case):
    name, path = case
    directory, info, _ = pyramids[name]
    limits = {"max_width": 1600, "max_height": 1600, "max_area": 1_000_000}
    try:
        resolved = request(path, info.width, info.height, **limits)
    except IIIFRequestError:
        return
    with decode(render(directory, info, resolved)) as image:
        assert image.format == {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}[resolved.format]
        angle = resolved.rotation % 360
        if angle in (0, 180):
            assert image.size == (resolved.out_w, resolved.out_h)
        elif angle in (90, 270):
            assert image.size == (resolved.out_h, resolved.out_w)
        else:
            radians = math.radians(angle)
            cos, sin = abs(math.cos(radians)), abs(math.sin(radians))
            assert abs(image.width - (resolved.out_w * cos + resolved.out_h * sin)) <= 2
            assert abs(image.height - (resolved.out_w * sin + resolved.out_h * cos)) <= 2
