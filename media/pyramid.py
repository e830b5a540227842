"""A tiled multi-resolution image pyramid, built once at ingest so that serving never decodes the original.

Layout of a pyramid directory::

    info.json                      PyramidInfo
    tiles/{sf}/{col}_{row}.jpg     tile (col, row) at scale factor sf (1, 2, 4, ...)
    full/{w}x{h}.jpg               the whole image at each level whose longest side is <= 2048

The tile (col, row) at scale factor sf covers the full-resolution region ``x = col*ts*sf``,
``y = row*ts*sf``, ``w = min(ts*sf, width - x)``, ``h = min(ts*sf, height - y)`` and measures
``ceil(w/sf) x ceil(h/sf)`` pixels: exactly the IIIF Image API tiles advertised for ``tiles.width = ts``.
"""

from __future__ import annotations

import io
import json
import logging
import math
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageCms, ImageOps

from media.pillow_limits import allow_pixels

logger = logging.getLogger(__name__)

TILE_SIZE = 512
#: Levels whose longest side is at most this are also stored whole (IIIF ``sizes``, thumbnails).
MAX_SIZE_SIDE = 2048
INFO_FILE = "info.json"
#: Raster formats a pyramid is built from; others (EPS, which runs Ghostscript, among them) are refused.
SOURCE_FORMATS = ("JPEG", "PNG", "TIFF", "WEBP", "GIF", "BMP", "JPEG2000")

#: Serialises the rare moments when Pillow's process-wide decompression-bomb limit is raised.
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class PixelLimitError(ValueError):
    """The image has more pixels than the configured limit; it was not decoded."""


@dataclass(frozen=True)
class PyramidInfo:
    """Geometry of a stored pyramid: full size, tile size, scale factors and stored whole-image sizes."""

    width: int
    height: int
    tile_size: int
    scale_factors: list[int]
    sizes: list[tuple[int, int]]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "width": self.width,
            "height": self.height,
            "tile_size": self.tile_size,
            "scale_factors": list(self.scale_factors),
            "sizes": [[w, h] for w, h in self.sizes],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PyramidInfo:
        """The inverse of :meth:`to_dict`; raises ValueError on malformed data."""
        try:
            info = cls(
                width=int(data["width"]),
                height=int(data["height"]),
                tile_size=int(data["tile_size"]),
                scale_factors=[int(sf) for sf in data["scale_factors"]],
                sizes=[(int(w), int(h)) for w, h in data["sizes"]],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed pyramid info: {exc}") from exc
        if info.width < 1 or info.height < 1 or info.tile_size < 1 or not info.scale_factors:
            raise ValueError("malformed pyramid info: empty geometry")
        return info

    def level_size(self, scale_factor: int) -> tuple[int, int]:
        """Pixel size of the whole image at a scale factor."""
        return math.ceil(self.width / scale_factor), math.ceil(self.height / scale_factor)

    def tile_counts(self, scale_factor: int) -> tuple[int, int]:
        """Number of tile columns and rows at a scale factor."""
        span = self.tile_size * scale_factor
        return math.ceil(self.width / span), math.ceil(self.height / span)

    def tile_region(self, scale_factor: int, col: int, row: int) -> tuple[int, int, int, int]:
        """Full-resolution region (x, y, w, h) covered by a tile."""
        span = self.tile_size * scale_factor
        x, y = col * span, row * span
        return x, y, min(span, self.width - x), min(span, self.height - y)

    def tile_pixel_size(self, scale_factor: int, col: int, row: int) -> tuple[int, int]:
        """Pixel size of a stored tile."""
        _, _, w, h = self.tile_region(scale_factor, col, row)
        return math.ceil(w / scale_factor), math.ceil(h / scale_factor)


def tile_path(pyramid_dir: Path, scale_factor: int, col: int, row: int) -> Path:
    """Where a tile is stored in a pyramid directory."""
    return pyramid_dir / "tiles" / str(scale_factor) / f"{col}_{row}.jpg"


def size_path(pyramid_dir: Path, width: int, height: int) -> Path:
    """Where a stored whole-image size is kept in a pyramid directory."""
    return pyramid_dir / "full" / f"{width}x{height}.jpg"


def load_pyramid_info(dest_dir: Path) -> PyramidInfo:
    """The PyramidInfo stored in a pyramid directory."""
    with (dest_dir / INFO_FILE).open(encoding="utf-8") as handle:
        return PyramidInfo.from_dict(json.load(handle))


def _open_checked(source: Path, max_pixels: int) -> Image.Image:
    """Open and decode an image, refusing it from its header when it has more than max_pixels."""
    with allow_pixels(max_pixels):
        try:
            image = Image.open(source, formats=SOURCE_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise PixelLimitError(f"{source.name}: {exc}") from exc
        try:
            width, height = image.size
            if width < 1 or height < 1:
                raise ValueError(f"{source.name}: empty image ({width}x{height})")
            if width * height > max_pixels:
                raise PixelLimitError(
                    f"{source.name}: {width}x{height} pixels, more than the limit of {max_pixels}"
                )
            image.load()
        except BaseException:
            image.close()
            raise
    return image


def _flatten(image: Image.Image) -> Image.Image:
    """An "L" or "RGB" image with the alpha channel of an "LA" or "RGBA" image composed on white."""
    if image.mode == "RGBA":
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, (0, 0), image)
        return background
    background = Image.new("L", image.size, 255)
    grey, alpha = image.getchannel("L"), image.getchannel("A")
    background.paste(grey, (0, 0), alpha)
    grey.close()
    alpha.close()
    return background


def _to_8bit_grey(image: Image.Image) -> Image.Image:
    """An "L" image from a 16/32-bit integer or float greyscale image, scaled rather than clipped."""
    if image.mode == "F":
        _, high = image.getextrema()
        scale = 255.0 if high <= 1.0 else (255.0 / high if high > 255 else 1.0)
        scaled = image.point(lambda v: v * scale)
        result = scaled.convert("L")
        scaled.close()
        return result
    wide = image if image.mode == "I" else image.convert("I")
    _, high = wide.getextrema()
    if high <= 255 and image.mode == "I":
        scale = 1.0
    elif high <= 65535:
        scale = 1 / 256
    else:
        scale = 255 / high
    scaled = wide.point(lambda v: v * scale)
    result = scaled.convert("L")
    scaled.close()
    if wide is not image:
        wide.close()
    return result


def _normalise_mode(image: Image.Image) -> Image.Image:
    """The image in one of "L", "RGB", "CMYK" or "LAB", alpha flattened on white, 8 bits per channel.

    Returns a new image or the same object; the caller closes the input when a new one is returned.
    """
    mode = image.mode
    if mode in ("L", "RGB", "CMYK", "LAB"):
        return image
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or image.has_transparency_data
        converted = image.convert("RGBA" if has_alpha else "RGB")
        if not has_alpha:
            return converted
        flat = _flatten(converted)
        converted.close()
        return flat
    if mode in ("LA", "RGBA"):
        return _flatten(image)
    if mode in ("La", "RGBa"):
        unmultiplied = image.convert("LA" if mode == "La" else "RGBA")
        flat = _flatten(unmultiplied)
        unmultiplied.close()
        return flat
    if mode == "1":
        return image.convert("L")
    if mode.startswith("I") or mode == "F":
        return _to_8bit_grey(image)
    return image.convert("RGB")


def _icc_profile(image: Image.Image) -> ImageCms.ImageCmsProfile | None:
    """The embedded ICC profile, or None when there is none, it is unreadable or already sRGB."""
    data = image.info.get("icc_profile")
    if not data:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(data))
        description = ImageCms.getProfileDescription(profile).strip()
    except (OSError, ImageCms.PyCMSError, TypeError, ValueError) as exc:
        logger.warning("ignoring an unreadable embedded ICC profile: %s", exc)
        return None
    if description.lower().startswith("srgb"):
        return None
    return profile


def to_srgb(image: Image.Image) -> Image.Image:
    """An 8-bit RGB image in sRGB: ICC-converted, CMYK/greyscale/palette converted, alpha flattened on white.

    Always returns a new image; the input is left open for the caller to close.
    """
    profile = _icc_profile(image)
    normal = _normalise_mode(image)
    owned = normal is not image
    try:
        if normal.mode == "LAB":
            lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB"))
            converted = ImageCms.profileToProfile(normal, lab, _SRGB, outputMode="RGB")
            assert converted is not None
            return converted
        if profile is not None:
            try:
                converted = ImageCms.profileToProfile(
                    normal,
                    profile,
                    _SRGB,
                    renderingIntent=ImageCms.Intent.PERCEPTUAL,
                    outputMode="RGB",
                    flags=ImageCms.Flags.BLACKPOINTCOMPENSATION,
                )
                assert converted is not None
                return converted
            except ImageCms.PyCMSError as exc:
                logger.warning("could not apply the embedded ICC profile (%s); converting naively", exc)
        if owned and normal.mode == "RGB":
            owned = False  # handed over to the caller
            return normal
        return normal.convert("RGB")
    finally:
        if owned:
            normal.close()


def cut(image: Image.Image, box: tuple[int, int, int, int]) -> Image.Image:
    """A copy of an integer box of an image.

    Unlike ``Image.crop`` this is not subject to Pillow's process-wide decompression-bomb limit, which
    concerns decoding files rather than copying pixels already in memory.
    """
    left, top, right, bottom = box
    piece = Image.new(image.mode, (right - left, bottom - top))
    piece.paste(image, (-left, -top))
    return piece


def _save_jpeg(image: Image.Image, path: Path, quality: int) -> None:
    """Write a baseline JPEG."""
    image.save(path, "JPEG", quality=quality, optimize=False, progressive=False)


def _write_level(level: Image.Image, root: Path, scale_factor: int, tile_size: int, quality: int) -> None:
    """Write every tile of one level of the pyramid."""
    directory = root / "tiles" / str(scale_factor)
    directory.mkdir(parents=True)
    cols = math.ceil(level.width / tile_size)
    rows = math.ceil(level.height / tile_size)
    for row in range(rows):
        for col in range(cols):
            left, top = col * tile_size, row * tile_size
            tile = cut(
                level, (left, top, min(left + tile_size, level.width), min(top + tile_size, level.height))
            )
            try:
                _save_jpeg(tile, directory / f"{col}_{row}.jpg", quality)
            finally:
                tile.close()


def _replace_directory(work: Path, dest_dir: Path) -> None:
    """Move work onto dest_dir with renames, replacing an existing dest_dir."""
    old: Path | None = None
    if dest_dir.exists():
        old = dest_dir.with_name(f".{dest_dir.name}.old-{uuid.uuid4().hex}")
        dest_dir.rename(old)
    try:
        work.rename(dest_dir)
    except BaseException:
        if old is not None:
            old.rename(dest_dir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def build_pyramid(source: Path, dest_dir: Path, *, max_pixels: int, quality: int = 88) -> PyramidInfo:
    """Decode source once and write its tiled pyramid, sizes and info.json to dest_dir (atomically)."""
    source, dest_dir = Path(source), Path(dest_dir)
    dest_dir.parent.mkdir(parents=True, exist_ok=True)
    original = _open_checked(source, max_pixels)
    try:
        ImageOps.exif_transpose(original, in_place=True)
        level = to_srgb(original)
    finally:
        original.close()
    width, height = level.size
    tile_size = TILE_SIZE
    work = Path(tempfile.mkdtemp(dir=dest_dir.parent, prefix=f".{dest_dir.name}.tmp-"))
    scale_factors: list[int] = []
    sizes: list[tuple[int, int]] = []
    try:
        scale_factor = 1
        while True:
            _write_level(level, work, scale_factor, tile_size, quality)
            scale_factors.append(scale_factor)
            if max(level.size) <= MAX_SIZE_SIDE:
                (work / "full").mkdir(exist_ok=True)
                _save_jpeg(level, size_path(work, level.width, level.height), quality)
                sizes.append(level.size)
            if level.width <= tile_size and level.height <= tile_size:
                break
            smaller = level.reduce(2)
            level.close()
            level = smaller
            scale_factor *= 2
        level.close()
        info = PyramidInfo(width, height, tile_size, scale_factors, sorted(sizes))
        (work / INFO_FILE).write_text(json.dumps(info.to_dict(), indent=1), encoding="utf-8")
        _replace_directory(work, dest_dir)
    except BaseException:
        level.close()
        shutil.rmtree(work, ignore_errors=True)
        raise
    logger.info(
        "built pyramid of %s: %dx%d, scale factors %s, sizes %s",
        source.name,
        width,
        height,
        scale_factors,
        sizes,
    )
    return info
