"""The tiled pyramid built at ingest: geometry, colour normalisation, EXIF orientation and the pixel limit."""

from __future__ import annotations

import io
import json
import math
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFile, ImageStat

from media.pyramid import (
    TILE_SIZE,
    PixelLimitError,
    PyramidInfo,
    build_pyramid,
    load_pyramid_info,
    size_path,
    tile_path,
    to_srgb,
)

MAX_PIXELS = 50_000_000


def sample_image(width: int, height: int) -> Image.Image:
    """A smooth, recognisable RGB test image (gradients and a few solid shapes)."""
    with (
        Image.linear_gradient("L") as vertical,
        Image.radial_gradient("L") as radial,
    ):
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


def save(image: Image.Image, path: Path, **params) -> Path:
    """Save and close an image."""
    with image:
        image.save(path, **params)
    return path


def expected_tiles(width: int, height: int, sf: int) -> dict[tuple[int, int], tuple[int, int]]:
    """(col, row) -> pixel size of every tile at a scale factor, computed from the documented formula."""
    span = TILE_SIZE * sf
    tiles = {}
    for row in range(math.ceil(height / span)):
        for col in range(math.ceil(width / span)):
            x, y = col * span, row * span
            w, h = min(span, width - x), min(span, height - y)
            tiles[(col, row)] = (math.ceil(w / sf), math.ceil(h / sf))
    return tiles


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel between two images of the same size."""
    with a.convert("RGB") as ra, b.convert("RGB") as rb, ImageChops.difference(ra, rb) as diff:
        return sum(ImageStat.Stat(diff).mean) / 3


def check_geometry(info: PyramidInfo, root: Path) -> None:
    """Every level, tile and size on disk matches the documented layout."""
    width, height = info.width, info.height
    assert info.scale_factors[0] == 1
    assert all(b == 2 * a for a, b in zip(info.scale_factors, info.scale_factors[1:], strict=False))
    last = info.scale_factors[-1]
    assert math.ceil(width / last) <= TILE_SIZE and math.ceil(height / last) <= TILE_SIZE
    if last > 1:
        previous = last // 2
        assert math.ceil(width / previous) > TILE_SIZE or math.ceil(height / previous) > TILE_SIZE
    on_disk = {p.relative_to(root / "tiles").as_posix() for p in (root / "tiles").rglob("*.jpg")}
    wanted = set()
    for sf in info.scale_factors:
        for (col, row), size in expected_tiles(width, height, sf).items():
            wanted.add(f"{sf}/{col}_{row}.jpg")
            with Image.open(tile_path(root, sf, col, row)) as tile:
                assert tile.size == size, (sf, col, row)
                assert tile.mode == "RGB"
                assert tile.format == "JPEG"
                assert not tile.info.get("progressive")
            assert info.tile_pixel_size(sf, col, row) == size
    assert on_disk == wanted
    levels = [(math.ceil(width / sf), math.ceil(height / sf)) for sf in info.scale_factors]
    assert info.sizes == sorted(size for size in levels if max(size) <= 2048)
    assert {p.name for p in (root / "full").glob("*.jpg")} == {f"{w}x{h}.jpg" for w, h in info.sizes}
    for w, h in info.sizes:
        with Image.open(size_path(root, w, h)) as full:
            assert full.size == (w, h)


def test_geometry_of_a_1300_by_900_image(tmp_path):
    source = save(sample_image(1300, 900), tmp_path / "original.png")
    info = build_pyramid(source, tmp_path / "pyramid", max_pixels=MAX_PIXELS)
    assert info == PyramidInfo(1300, 900, 512, [1, 2, 4], [(325, 225), (650, 450), (1300, 900)])
    check_geometry(info, tmp_path / "pyramid")
    assert load_pyramid_info(tmp_path / "pyramid") == info
    assert json.loads((tmp_path / "pyramid" / "info.json").read_text()) == info.to_dict()
    assert sorted(p.name for p in (tmp_path / "pyramid" / "tiles").iterdir()) == ["1", "2", "4"]
    assert len(list((tmp_path / "pyramid" / "tiles" / "1").iterdir())) == 6
    assert len(list((tmp_path / "pyramid" / "tiles" / "2").iterdir())) == 2


def test_tiles_show_the_right_part_of_the_image(tmp_path):
    original = sample_image(1300, 900)
    source = tmp_path / "original.png"
    original.save(source)
    info = build_pyramid(source, tmp_path / "pyramid", max_pixels=MAX_PIXELS, quality=95)
    with original:
        for sf, col, row in [(1, 0, 0), (1, 2, 1), (1, 1, 0), (2, 1, 0), (4, 0, 0)]:
            x, y, w, h = info.tile_region(sf, col, row)
            with (
                original.crop((x, y, x + w, y + h)) as crop,
                crop.resize(info.tile_pixel_size(sf, col, row), Image.Resampling.BOX) as expected,
                Image.open(tile_path(tmp_path / "pyramid", sf, col, row)) as tile,
            ):
                assert mean_difference(tile, expected) < 3, (sf, col, row)


def test_geometry_of_a_one_pixel_wide_image(tmp_path):
    source = save(sample_image(1, 1500), tmp_path / "thin.png")
    info = build_pyramid(source, tmp_path / "pyramid", max_pixels=MAX_PIXELS)
    assert info.scale_factors == [1, 2, 4]
    assert info.sizes == [(1, 375), (1, 750), (1, 1500)]
    check_geometry(info, tmp_path / "pyramid")


@pytest.mark.parametrize(
    ("size", "scale_factors", "sizes"),
    [
        ((512, 512), [1], [(512, 512)]),
        ((513, 10), [1, 2], [(257, 5), (513, 10)]),
        ((1, 1), [1], [(1, 1)]),
        ((5000, 300), [1, 2, 4, 8, 16], [(313, 19), (625, 38), (1250, 75)]),
    ],
)
def test_levels_stop_at_the_first_single_tile(tmp_path, size, scale_factors, sizes):
    source = save(sample_image(*size), tmp_path / "original.png")
    info = build_pyramid(source, tmp_path / "pyramid", max_pixels=MAX_PIXELS)
    assert (info.scale_factors, info.sizes) == (scale_factors, sizes)
    check_geometry(info, tmp_path / "pyramid")


def test_rebuilding_replaces_the_directory_atomically(tmp_path):
    dest = tmp_path / "pyramid"
    first = build_pyramid(save(sample_image(1300, 900), tmp_path / "a.png"), dest, max_pixels=MAX_PIXELS)
    assert first.width == 1300
    second = build_pyramid(save(sample_image(300, 200), tmp_path / "b.png"), dest, max_pixels=MAX_PIXELS)
    assert second == load_pyramid_info(dest)
    assert second.scale_factors == [1]
    assert not (dest / "tiles" / "2").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png", "pyramid"]


def test_a_failed_build_leaves_nothing_behind(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image at all")
    with pytest.raises(OSError):
        build_pyramid(broken, tmp_path / "pyramid", max_pixels=MAX_PIXELS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.jpg"]


def test_exif_orientation_6_is_applied(tmp_path):
    image = Image.new("RGB", (600, 400), (255, 255, 255))
    ImageDraw.Draw(image).rectangle((0, 0, 99, 99), fill=(255, 0, 0))  # top-left corner as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    source = save(image, tmp_path / "rotated.jpg", exif=exif, quality=95)
    info = build_pyramid(source, tmp_path / "pyramid", max_pixels=MAX_PIXELS)
    assert (info.width, info.height) == (400, 600)
    with Image.open(tile_path(tmp_path / "pyramid", 1, 0, 0)) as tile:
        assert tile.size == (400, 512)
        red = tile.getpixel((400 - 50, 50))  # displayed top-right corner
        white = tile.getpixel((50, 50))
    assert red[0] > 200 and red[1] < 60 and red[2] < 60
    assert min(white) > 230


def _decoded(path: Path) -> Image.Image:
    """The normalised image of a file, as the pyramid sees it."""
    with Image.open(path) as image:
        image.load()
        return to_srgb(image)


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    source = save(Image.new("CMYK", (600, 300), (0, 255, 255, 0)), tmp_path / "cmyk.jpg", quality=95)
    info = build_pyramid(source, tmp_path / "pyramid", max_pixels=MAX_PIXELS)
    with Image.open(tile_path(tmp_path / "pyramid", 1, 0, 0)) as tile:
        assert tile.mode == "RGB"
        r, g, b = tile.getpixel((10, 10))
    assert r > 220 and g < 40 and b < 40
    assert (info.width, info.height) == (600, 300)


def test_rgba_png_is_flattened_on_white(tmp_path):
    image = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((100, 0, 199, 99), fill=(0, 0, 0, 128))
    source = save(image, tmp_path / "alpha.png")
    with _decoded(source) as rgb:
        assert rgb.mode == "RGB"
        assert rgb.getpixel((10, 10)) == (255, 255, 255)
        assert all(abs(v - 127) <= 2 for v in rgb.getpixel((150, 50)))
    build_pyramid(source, tmp_path / "pyramid", max_pixels=MAX_PIXELS)
    with Image.open(tile_path(tmp_path / "pyramid", 1, 0, 0)) as tile:
        assert tile.mode == "RGB"


def test_sixteen_bit_greyscale_png_is_scaled_to_eight_bits(tmp_path):
    image = Image.new("I;16", (300, 200), 40000)
    ImageDraw.Draw(image).rectangle((0, 0, 99, 99), fill=65535)
    source = save(image, tmp_path / "grey16.png")
    with Image.open(source) as check:
        assert check.mode.startswith("I")
    with _decoded(source) as rgb:
        assert rgb.mode == "RGB"
        assert all(abs(v - 40000 // 256) <= 1 for v in rgb.getpixel((200, 150)))
        assert rgb.getpixel((10, 10)) == (255, 255, 255)
    info = build_pyramid(source, tmp_path / "pyramid", max_pixels=MAX_PIXELS)
    assert info.sizes == [(300, 200)]


@pytest.mark.parametrize("mode", ["P", "PA", "L", "LA", "1", "I", "F", "RGBX"])
def test_other_modes_become_rgb(tmp_path, mode):
    with Image.new("RGB", (64, 32), (10, 120, 200)) as base, base.convert(mode) as image:
        rgb = to_srgb(image)
    with rgb:
        assert rgb.mode == "RGB"
        assert rgb.size == (64, 32)


def _icc_tag_xyz(x: float, y: float, z: float) -> bytes:
    """An ICC XYZType tag."""
    return b"XYZ " + bytes(4) + b"".join(struct.pack(">i", round(v * 65536)) for v in (x, y, z))


def swapped_primaries_profile() -> bytes:
    """A minimal ICC v2 RGB display profile whose red and green primaries are swapped (not sRGB)."""
    text = b"Swapped-primaries test RGB\0"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(4 + 4 + 2 + 1 + 67)
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, 0x0233) + bytes(2)  # gamma 2.2
    tags = [
        (b"desc", desc),
        (b"wtpt", _icc_tag_xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", _icc_tag_xyz(0.3851, 0.7169, 0.0971)),  # sRGB's green colorant
        (b"gXYZ", _icc_tag_xyz(0.4361, 0.2225, 0.0139)),  # sRGB's red colorant
        (b"bXYZ", _icc_tag_xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        body += bytes(-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (
        struct.pack(">I", size)
        + bytes(4)
        + bytes([2, 0x10, 0, 0])
        + b"mntrRGB XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(24)
        + struct.pack(">I", 0)
        + _icc_tag_xyz(0.9642, 1.0, 0.8249)[8:]
        + bytes(48)
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


def test_embedded_icc_profile_is_converted_to_srgb(tmp_path):
    source = save(
        Image.new("RGB", (100, 60), (200, 30, 30)),
        tmp_path / "swapped.png",
        icc_profile=swapped_primaries_profile(),
    )
    with Image.open(source) as check:
        assert check.info.get("icc_profile")
    with _decoded(source) as rgb:
        r, g, b = rgb.getpixel((5, 5))
    assert g > 150 and r < 90 and b < 90, (r, g, b)
    build_pyramid(source, tmp_path / "pyramid", max_pixels=MAX_PIXELS)
    with Image.open(tile_path(tmp_path / "pyramid", 1, 0, 0)) as tile:
        r, g, b = tile.getpixel((5, 5))
        assert "icc_profile" not in tile.info
    assert g > 150 and r < 90


def test_a_broken_icc_profile_is_ignored(tmp_path):
    source = save(
        Image.new("RGB", (100, 60), (200, 30, 30)), tmp_path / "broken.png", icc_profile=b"garbage" * 20
    )
    with _decoded(source) as rgb:
        assert rgb.getpixel((5, 5)) == (200, 30, 30)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size in its header but carries no decodable pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"\x00garbage") + chunk(b"IEND", b"")


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any image is decoded."""

    def refuse(self):
        raise AssertionError("the image was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def test_pixel_limit_is_checked_before_decoding(tmp_path, no_decoding):
    source = tmp_path / "huge.png"
    source.write_bytes(png_header_only(3000, 3000))
    with pytest.raises(PixelLimitError, match="3000x3000"):
        build_pyramid(source, tmp_path / "pyramid", max_pixels=1_000_000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["huge.png"]


def test_pixel_bombs_beyond_pillows_own_limit_are_a_pixel_limit_error(tmp_path, no_decoding):
    source = tmp_path / "bomb.png"
    source.write_bytes(png_header_only(30000, 30000))
    with pytest.raises(PixelLimitError):
        build_pyramid(source, tmp_path / "pyramid", max_pixels=1_000_000)
    assert isinstance(PixelLimitError("x"), ValueError)


def test_pixel_limit_on_a_real_image(tmp_path):
    source = save(sample_image(100, 100), tmp_path / "small.png")
    with pytest.raises(PixelLimitError):
        build_pyramid(source, tmp_path / "pyramid", max_pixels=9_999)
    assert build_pyramid(source, tmp_path / "pyramid", max_pixels=10_000).width == 100


def test_a_limit_above_pillows_is_honoured_and_pillows_global_restored(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000)
    source = save(sample_image(100, 100), tmp_path / "small.png")
    info = build_pyramid(source, tmp_path / "pyramid", max_pixels=20_000)
    assert info.width == 100
    assert Image.MAX_IMAGE_PIXELS == 1_000


def test_pyramid_info_round_trip_and_validation():
    info = PyramidInfo(10, 20, 512, [1], [(10, 20)])
    assert PyramidInfo.from_dict(json.loads(json.dumps(info.to_dict()))) == info
    with pytest.raises(ValueError):
        PyramidInfo.from_dict({"width": 10})
    with pytest.raises(ValueError):
        PyramidInfo.from_dict({"width": 0, "height": 1, "tile_size": 512, "scale_factors": [1], "sizes": []})


def test_tiles_are_baseline_jpegs(tmp_path):
    source = save(sample_image(300, 200), tmp_path / "original.png")
    build_pyramid(source, tmp_path / "pyramid", max_pixels=MAX_PIXELS, quality=70)
    data = tile_path(tmp_path / "pyramid", 1, 0, 0).read_bytes()
    assert b"\xff\xc0" in data  # SOF0: baseline DCT
    assert b"\xff\xc2" not in data  # no SOF2 (progressive)
    with Image.open(io.BytesIO(data)) as tile:
        assert tile.format == "JPEG"


def test_only_raster_formats_are_read(tmp_path):
    eps = tmp_path / "drawing.eps"
    eps.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    with pytest.raises(Image.UnidentifiedImageError):
        build_pyramid(eps, tmp_path / "pyramid", max_pixels=MAX_PIXELS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drawing.eps"]
