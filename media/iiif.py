"""IIIF Image API 3.0 (compliance level 2): request parsing, resolution against an image, and rendering.

Rendering reads only the tiles of a pyramid built by :mod:`media.pyramid`, never the original. See
https://iiif.io/api/image/3.0/ and https://iiif.io/api/image/3.0/compliance/.
"""

from __future__ import annotations

import io
import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from media.pyramid import PyramidInfo, cut, tile_path

logger = logging.getLogger(__name__)

CONTEXT = "http://iiif.io/api/image/3/context.json"
PROTOCOL = "http://iiif.io/api/image"
QUALITIES = ("default", "color", "gray", "bitonal")
FORMATS = ("jpg", "png", "webp")
MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
#: Features beyond level 2 that this implementation supports (compliance document, section 3).
EXTRA_FEATURES = ("mirroring", "rotationArbitrary", "sizeUpscaling")
JPEG_QUALITY = 85
WEBP_QUALITY = 80
BITONAL_THRESHOLD = 128
#: No valid parameter is anywhere near this long; longer ones are refused before any parsing.
MAX_SEGMENT_LENGTH = 100

_INT = r"[0-9]+"
_FLOAT = r"[0-9]+(?:\.[0-9]+)?"
_REGION_PX = re.compile(rf"({_INT}),({_INT}),({_INT}),({_INT})")
_REGION_PCT = re.compile(rf"pct:({_FLOAT}),({_FLOAT}),({_FLOAT}),({_FLOAT})")
_SIZE_W = re.compile(rf"({_INT}),")
_SIZE_H = re.compile(rf",({_INT})")
_SIZE_WH = re.compile(rf"(!?)({_INT}),({_INT})")
_SIZE_PCT = re.compile(rf"pct:({_FLOAT})")
_ROTATION = re.compile(rf"(!?)({_FLOAT})")
_QUALITY_FORMAT = re.compile(r"([a-z]+)\.([a-z0-9]+)")


class IIIFRequestError(ValueError):
    """A malformed or impossible IIIF image request; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ImageRequest:
    """A syntactically valid image request, not yet bound to an image.

    ``region`` is "full", "square", "pixels" or "percent" (``region_values`` holds x, y, w, h for the
    last two); ``size`` is "max", "w", "h", "pct", "wh" or "confined" with ``size_w``, ``size_h`` or
    ``size_pct`` as the form needs, and ``upscale`` for a leading ``^``.
    """

    region: str
    region_values: tuple[float, float, float, float] | None
    size: str
    size_w: int | None
    size_h: int | None
    size_pct: float | None
    upscale: bool
    rotation: float
    mirror: bool
    quality: str
    format: str


@dataclass(frozen=True)
class ResolvedRequest:
    """A request bound to an image: the region in full-resolution pixels and the exact output size."""

    x: int
    y: int
    w: int
    h: int
    out_w: int
    out_h: int
    rotation: float
    mirror: bool
    quality: str
    format: str

    @property
    def media_type(self) -> str:
        """The MIME type of the response body."""
        return MEDIA_TYPES[self.format]


def _check_segment(name: str, value: str) -> None:
    """Refuse non-strings and absurdly long segments up front."""
    if not isinstance(value, str):
        raise IIIFRequestError(f"The {name} parameter is missing.")
    if len(value) > MAX_SEGMENT_LENGTH:
        raise IIIFRequestError(f"The {name} parameter is too long.")


def _parse_region(region: str) -> tuple[str, tuple[float, float, float, float] | None]:
    """The region form and its four numbers."""
    _check_segment("region", region)
    if region in ("full", "square"):
        return region, None
    match = _REGION_PX.fullmatch(region)
    if match:
        x, y, w, h = (int(group) for group in match.groups())
        if w == 0 or h == 0:
            raise IIIFRequestError("The region's width and height must be greater than zero.")
        return "pixels", (x, y, w, h)
    match = _REGION_PCT.fullmatch(region)
    if match:
        px, py, pw, ph = (float(group) for group in match.groups())
        if pw <= 0 or ph <= 0:
            raise IIIFRequestError("The region's width and height must be greater than zero.")
        return "percent", (px, py, pw, ph)
    raise IIIFRequestError(f"Invalid region: {region!r}.")


def _parse_size(size: str) -> tuple[str, int | None, int | None, float | None, bool]:
    """The size form, its numbers and whether upscaling is allowed."""
    _check_segment("size", size)
    upscale = size.startswith("^")
    body = size[1:] if upscale else size
    if body == "max":
        return "max", None, None, None, upscale
    match = _SIZE_W.fullmatch(body)
    if match:
        w = int(match.group(1))
        if w == 0:
            raise IIIFRequestError("The requested width must be greater than zero.")
        return "w", w, None, None, upscale
    match = _SIZE_H.fullmatch(body)
    if match:
        h = int(match.group(1))
        if h == 0:
            raise IIIFRequestError("The requested height must be greater than zero.")
        return "h", None, h, None, upscale
    match = _SIZE_WH.fullmatch(body)
    if match:
        w, h = int(match.group(2)), int(match.group(3))
        if w == 0 or h == 0:
            raise IIIFRequestError("The requested width and height must be greater than zero.")
        return ("confined" if match.group(1) else "wh"), w, h, None, upscale
    match = _SIZE_PCT.fullmatch(body)
    if match:
        pct = float(match.group(1))
        if pct <= 0:
            raise IIIFRequestError("The size percentage must be greater than zero.")
        return "pct", None, None, pct, upscale
    raise IIIFRequestError(f"Invalid size: {size!r}.")


def _parse_rotation(rotation: str) -> tuple[float, bool]:
    """Degrees of clockwise rotation and whether to mirror first."""
    _check_segment("rotation", rotation)
    match = _ROTATION.fullmatch(rotation)
    if not match:
        raise IIIFRequestError(f"Invalid rotation: {rotation!r}.")
    degrees = float(match.group(2))
    if not 0 <= degrees <= 360:
        raise IIIFRequestError("The rotation must be between 0 and 360 degrees.")
    return degrees, bool(match.group(1))


def _parse_quality_format(quality_format: str) -> tuple[str, str]:
    """The quality and the format."""
    _check_segment("quality and format", quality_format)
    match = _QUALITY_FORMAT.fullmatch(quality_format)
    if not match:
        raise IIIFRequestError(f"Invalid quality and format: {quality_format!r}.")
    quality, fmt = match.groups()
    if quality not in QUALITIES:
        raise IIIFRequestError(f"Unsupported quality: {quality!r}.")
    if fmt not in FORMATS:
        raise IIIFRequestError(f"Unsupported format: {fmt!r}.")
    return quality, fmt


def parse_request(region: str, size: str, rotation: str, quality_format: str) -> ImageRequest:
    """Parse the four path segments of an image request; raises IIIFRequestError when malformed."""
    region_form, region_values = _parse_region(region)
    size_form, size_w, size_h, size_pct, upscale = _parse_size(size)
    degrees, mirror = _parse_rotation(rotation)
    quality, fmt = _parse_quality_format(quality_format)
    return ImageRequest(
        region=region_form,
        region_values=region_values,
        size=size_form,
        size_w=size_w,
        size_h=size_h,
        size_pct=size_pct,
        upscale=upscale,
        rotation=degrees,
        mirror=mirror,
        quality=quality,
        format=fmt,
    )


def _round(value: float) -> int:
    """Round half up."""
    return math.floor(value + 0.5)


def _scaled(length: int, numerator: int, denominator: int) -> int:
    """round(length * numerator / denominator), in exact integer arithmetic."""
    return (2 * length * numerator + denominator) // (2 * denominator)


def _resolve_region(req: ImageRequest, width: int, height: int) -> tuple[int, int, int, int]:
    """The requested region in full-resolution pixels, cropped to the image."""
    if req.region == "full":
        return 0, 0, width, height
    if req.region == "square":
        side = min(width, height)
        return (width - side) // 2, (height - side) // 2, side, side
    assert req.region_values is not None
    if req.region == "pixels":
        x, y, w, h = (int(v) for v in req.region_values)
    else:
        px, py, pw, ph = req.region_values
        if px >= 100 or py >= 100:
            raise IIIFRequestError("The region is entirely outside the image.")
        x, y = _round(width * px / 100), _round(height * py / 100)
        right = _round(width * min(px + pw, 100.0) / 100)
        bottom = _round(height * min(py + ph, 100.0) / 100)
        w, h = right - x, bottom - y
        if w <= 0 or h <= 0:
            raise IIIFRequestError("The region is less than one pixel wide or high.")
    if x >= width or y >= height:
        raise IIIFRequestError("The region is entirely outside the image.")
    return x, y, min(w, width - x), min(h, height - y)


def _confine(rw: int, rh: int, bw: int, bh: int) -> tuple[int, int]:
    """The largest size with the aspect ratio of rw x rh that fits in bw x bh (at least 1 x 1)."""
    if bw * rh <= bh * rw:
        return bw, max(1, min(bh, _scaled(rh, bw, rw)))
    return max(1, min(bw, _scaled(rw, bh, rh))), bh


def _limit_area(w: int, h: int, max_area: int) -> tuple[int, int]:
    """Scale w x h down, keeping its ratio, until its area is at most max_area."""
    if w * h <= max_area:
        return w, h
    factor = math.sqrt(max_area / (w * h))
    nw, nh = max(1, math.floor(w * factor)), max(1, math.floor(h * factor))
    while nw * nh > max_area and (nw > 1 or nh > 1):
        if nw * h >= nh * w:
            nw -= 1
        else:
            nh -= 1
    return nw, nh


def _resolve_size(
    req: ImageRequest, rw: int, rh: int, max_width: int, max_height: int, max_area: int
) -> tuple[int, int]:
    """The output size for a region of rw x rh; raises IIIFRequestError when impossible or too large."""
    up = req.upscale
    if req.size == "max":
        if up:
            w, h = _confine(rw, rh, max_width, max_height)
        elif rw <= max_width and rh <= max_height:
            w, h = rw, rh
        else:
            w, h = _confine(rw, rh, min(rw, max_width), min(rh, max_height))
        return _limit_area(w, h, max_area)
    if req.size == "confined":
        assert req.size_w is not None and req.size_h is not None
        bw, bh = min(req.size_w, max_width), min(req.size_h, max_height)
        w, h = _confine(rw, rh, bw, bh)
        if not up and (w > rw or h > rh):
            # The official validator (size_noup) requires 400 here: without ^ a best fit that would
            # enlarge the region is refused rather than capped at the region's size.
            raise IIIFRequestError("The best fit is larger than the region; use ^ to upscale.")
        return _limit_area(w, h, max_area)
    if req.size == "w":
        assert req.size_w is not None
        w = req.size_w
        if not up and w > rw:
            raise IIIFRequestError("The requested width is larger than the region; use ^ to upscale.")
        if w > max_width:
            raise IIIFRequestError(f"The requested width exceeds the maximum of {max_width}.")
        return w, _scaled(rh, w, rw)
    if req.size == "h":
        assert req.size_h is not None
        h = req.size_h
        if not up and h > rh:
            raise IIIFRequestError("The requested height is larger than the region; use ^ to upscale.")
        if h > max_height:
            raise IIIFRequestError(f"The requested height exceeds the maximum of {max_height}.")
        return _scaled(rw, h, rh), h
    if req.size == "wh":
        assert req.size_w is not None and req.size_h is not None
        w, h = req.size_w, req.size_h
        if not up and (w > rw or h > rh):
            raise IIIFRequestError("The requested size is larger than the region; use ^ to upscale.")
        if w > max_width or h > max_height:
            raise IIIFRequestError("The requested size exceeds the maximum width or height.")
        return w, h
    assert req.size == "pct" and req.size_pct is not None
    pct = req.size_pct
    if not up and pct > 100:
        raise IIIFRequestError("The size percentage is over 100; use ^ to upscale.")
    fw, fh = rw * pct / 100, rh * pct / 100
    if not (fw < max_width + 1 and fh < max_height + 1):
        raise IIIFRequestError("The requested size exceeds the maximum width or height.")
    return _round(fw), _round(fh)


def resolve(
    req: ImageRequest, width: int, height: int, *, max_width: int, max_height: int, max_area: int
) -> ResolvedRequest:
    """Bind a request to an image of width x height; raises IIIFRequestError (400) when impossible."""
    x, y, rw, rh = _resolve_region(req, width, height)
    out_w, out_h = _resolve_size(req, rw, rh, max_width, max_height, max_area)
    if out_w < 1 or out_h < 1:
        raise IIIFRequestError("The requested size is less than one pixel.")
    if not req.upscale and (out_w > rw or out_h > rh):
        raise IIIFRequestError("The requested size is larger than the region; use ^ to upscale.")
    if out_w > max_width or out_h > max_height or out_w * out_h > max_area:
        raise IIIFRequestError("The requested size exceeds the server's limits.")
    return ResolvedRequest(x, y, rw, rh, out_w, out_h, req.rotation, req.mirror, req.quality, req.format)


def _is_plain(resolved: ResolvedRequest) -> bool:
    """Whether the request asks for unrotated, unmirrored colour JPEG."""
    return (
        resolved.rotation % 360 == 0
        and not resolved.mirror
        and resolved.quality in ("default", "color")
        and resolved.format == "jpg"
    )


def tile_for(resolved: ResolvedRequest, info: PyramidInfo) -> tuple[int, int, int] | None:
    """(scale factor, col, row) when the request is exactly a stored tile whose bytes can be served as is."""
    if not _is_plain(resolved):
        return None
    for sf in info.scale_factors:
        span = info.tile_size * sf
        if resolved.x % span or resolved.y % span:
            continue
        col, row = resolved.x // span, resolved.y // span
        if info.tile_region(sf, col, row) != (resolved.x, resolved.y, resolved.w, resolved.h):
            continue
        if info.tile_pixel_size(sf, col, row) == (resolved.out_w, resolved.out_h):
            return sf, col, row
    return None


def size_for(resolved: ResolvedRequest, info: PyramidInfo) -> tuple[int, int] | None:
    """(width, height) when the request is exactly a stored whole-image size (``full/{w}x{h}.jpg``)."""
    if not _is_plain(resolved) or (resolved.x, resolved.y, resolved.w, resolved.h) != (
        0,
        0,
        info.width,
        info.height,
    ):
        return None
    size = (resolved.out_w, resolved.out_h)
    return size if size in [tuple(s) for s in info.sizes] else None


def _scale_factor(info: PyramidInfo, resolved: ResolvedRequest) -> int:
    """The coarsest stored level whose resolution is still at least the requested one."""
    limit = min(resolved.w / resolved.out_w, resolved.h / resolved.out_h)
    usable = [sf for sf in info.scale_factors if sf <= limit]
    return max(usable) if usable else 1


class _TileCache:
    """A small, thread-safe LRU of decoded tiles: deep-zoom viewers ask for neighbouring regions, which
    share tiles, so most requests then decode nothing. Bounded in bytes."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self._items: OrderedDict[tuple, Image.Image] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, pyramid_dir: Path, sf: int, col: int, row: int) -> Image.Image:
        """The decoded RGB tile (shared: callers must only read it)."""
        stat = pyramid_dir.stat()  # a rebuilt pyramid is a new directory: new inode, new keys
        key = (str(pyramid_dir), stat.st_ino, stat.st_mtime_ns, sf, col, row)
        with self._lock:
            tile = self._items.get(key)
            if tile is not None:
                self._items.move_to_end(key)
                return tile
        with Image.open(tile_path(pyramid_dir, sf, col, row)) as opened:
            opened.load()
            tile = opened.copy() if opened.mode == "RGB" else opened.convert("RGB")
        size = tile.width * tile.height * 3
        with self._lock:
            if key not in self._items:
                self._items[key] = tile
                self.used += size
                while self.used > self.budget and self._items:
                    _, old = self._items.popitem(last=False)
                    self.used -= old.width * old.height * 3
        return tile


#: Decoded-tile cache of this process (32 MiB: about 40 tiles of 512 x 512).
TILE_CACHE = _TileCache(32 * 2**20)


def _region_at_level(pyramid_dir: Path, info: PyramidInfo, resolved: ResolvedRequest, sf: int) -> Image.Image:
    """The request's region, read from the tiles at scale factor sf and resized to the output size."""
    ts = info.tile_size
    span = ts * sf
    col0, col1 = resolved.x // span, (resolved.x + resolved.w - 1) // span
    row0, row1 = resolved.y // span, (resolved.y + resolved.h - 1) // span
    level_w, level_h = info.level_size(sf)
    left, top = col0 * ts, row0 * ts
    canvas = Image.new("RGB", (min((col1 + 1) * ts, level_w) - left, min((row1 + 1) * ts, level_h) - top))
    keep_canvas = False
    try:
        for row in range(row0, row1 + 1):
            for col in range(col0, col1 + 1):
                canvas.paste(TILE_CACHE.get(pyramid_dir, sf, col, row), (col * ts - left, row * ts - top))
        # A region reaching the right or bottom edge takes the level's last (partial) pixel whole, so that
        # edge tiles map exactly onto stored tiles.
        right = (
            canvas.width if resolved.x + resolved.w == info.width else (resolved.x + resolved.w) / sf - left
        )
        bottom = (
            canvas.height if resolved.y + resolved.h == info.height else (resolved.y + resolved.h) / sf - top
        )
        box = (
            resolved.x / sf - left,
            resolved.y / sf - top,
            min(right, canvas.width),
            min(bottom, canvas.height),
        )
        box_w, box_h = box[2] - box[0], box[3] - box[1]
        size = (resolved.out_w, resolved.out_h)
        if all(float(v).is_integer() for v in box) and (box_w, box_h) == size:
            if box == (0, 0, canvas.width, canvas.height):
                keep_canvas = True
                return canvas
            return cut(canvas, (int(box[0]), int(box[1]), int(box[2]), int(box[3])))
        reducing = box_w / resolved.out_w >= 2 or box_h / resolved.out_h >= 2
        # Pillow's reductions are area-weighted (antialiased) for every filter: bilinear is enough below
        # 2x (the level is chosen so that this is the usual case) and costs about half of bicubic.
        upscaling = box_w < resolved.out_w or box_h < resolved.out_h
        if reducing:
            resample = Image.Resampling.LANCZOS
        else:
            resample = Image.Resampling.BICUBIC if upscaling else Image.Resampling.BILINEAR
        return canvas.resize(size, resample, box=box)
    finally:
        if not keep_canvas:
            canvas.close()


def _rotate(image: Image.Image, resolved: ResolvedRequest) -> Image.Image:
    """Mirror (first) and rotate clockwise as requested; returns a new image or the same one."""
    result = image
    if resolved.mirror:
        result = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    angle = resolved.rotation % 360
    if angle == 0:
        return result
    exact = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}
    if angle in exact:
        rotated = result.transpose(exact[int(angle)])
    elif resolved.format == "jpg":
        rotated = result.rotate(-angle, Image.Resampling.BICUBIC, expand=True, fillcolor=(255, 255, 255))
    else:
        rgba = result.convert("RGBA")
        rotated = rgba.rotate(-angle, Image.Resampling.BICUBIC, expand=True, fillcolor=(0, 0, 0, 0))
        rgba.close()
    if result is not image:
        result.close()
    return rotated


def _apply_quality(image: Image.Image, quality: str) -> Image.Image:
    """Convert to the requested quality; returns a new image or the same one."""
    has_alpha = image.mode == "RGBA"
    if quality == "gray":
        return image.convert("LA" if has_alpha else "L")
    if quality != "bitonal":
        return image
    threshold = [0] * BITONAL_THRESHOLD + [255] * (256 - BITONAL_THRESHOLD)
    with image.convert("L") as grey:
        if not has_alpha:
            return grey.point(threshold, "1")
        with grey.point(threshold) as black_white, image.getchannel("A") as alpha:
            return Image.merge("LA", (black_white, alpha))


def _encode(image: Image.Image, fmt: str) -> bytes:
    """Encode the final image."""
    buffer = io.BytesIO()
    if fmt == "jpg":
        image.save(buffer, "JPEG", quality=JPEG_QUALITY)
    elif fmt == "png":
        image.save(buffer, "PNG")
    elif fmt == "webp":
        image.save(buffer, "WEBP", quality=WEBP_QUALITY)
    else:
        raise IIIFRequestError(f"Unsupported format: {fmt!r}.")
    return buffer.getvalue()


def render(pyramid_dir: Path, info: PyramidInfo, resolved: ResolvedRequest) -> bytes:
    """Render a resolved request from the pyramid's tiles (never from the original) and encode it."""
    if resolved.format not in FORMATS:
        raise IIIFRequestError(f"Unsupported format: {resolved.format!r}.")
    if resolved.quality not in QUALITIES:
        raise IIIFRequestError(f"Unsupported quality: {resolved.quality!r}.")
    sf = _scale_factor(info, resolved)
    stages = [_region_at_level(Path(pyramid_dir), info, resolved, sf)]
    try:
        stages.append(_rotate(stages[-1], resolved))
        stages.append(_apply_quality(stages[-1], resolved.quality))
        return _encode(stages[-1], resolved.format)
    finally:
        for stage in {id(s): s for s in stages}.values():
            stage.close()


def info_json(
    image_id: str,
    info: PyramidInfo,
    *,
    max_width: int,
    max_height: int,
    max_area: int,
    extra_features: Iterable[str] = (),
) -> dict[str, Any]:
    """The IIIF Image API 3.0 image information document (level 2) for a pyramid."""
    sizes = [
        {"width": w, "height": h}
        for w, h in info.sizes
        if w <= max_width and h <= max_height and w * h <= max_area
    ]
    features = list(EXTRA_FEATURES) + [f for f in extra_features if f not in EXTRA_FEATURES]
    return {
        "@context": CONTEXT,
        "id": image_id,
        "type": "ImageService3",
        "protocol": PROTOCOL,
        "profile": "level2",
        "width": info.width,
        "height": info.height,
        "maxWidth": max_width,
        "maxHeight": max_height,
        "maxArea": max_area,
        "sizes": sizes,
        "tiles": [{"width": info.tile_size, "scaleFactors": list(info.scale_factors)}],
        "extraFormats": ["webp"],
        "extraQualities": ["color", "gray", "bitonal"],
        "extraFeatures": features,
    }
