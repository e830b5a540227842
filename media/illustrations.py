"""Illustration media for the demo, generated on the fly and labelled as illustrations.

Pictures are drawn with Pillow; audio is speech synthesised by espeak-ng (or a tone sequence from
ffmpeg when espeak-ng is missing); video is an ffmpeg test pattern with a tone.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
)


def _font(size: int):
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size=size)


def _palette(seed: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    h = hashlib.sha256(seed.encode()).digest()
    return (h[0] // 2 + 60, h[1] // 3 + 30, h[2] // 4 + 20), (
        h[3] // 2 + 120,
        h[4] // 2 + 100,
        h[5] // 3 + 60,
    )


def draw_picture(path: Path, title: str, subtitle: str, label: str, size=(1200, 800)) -> None:
    """Draw a JPEG illustration: a woven-textile pattern, the title and an 'illustration' label."""
    top, bottom = _palette(title)
    image = Image.new("RGB", size, top)
    draw = ImageDraw.Draw(image)
    w, h = size
    for y in range(h):
        t = y / h
        draw.line(
            [(0, y), (w, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )
    step = 60
    for x in range(0, w + step, step):  # a brocade-like band of lozenges
        draw.polygon(
            [(x, h - 170), (x + step // 2, h - 200), (x + step, h - 170), (x + step // 2, h - 140)],
            outline=(250, 230, 180),
            width=3,
        )
    draw.text((60, 80), title, font=_font(56), fill=(255, 250, 240))
    draw.text((60, 170), subtitle, font=_font(30), fill=(245, 235, 215))
    draw.rectangle([(40, h - 90), (w - 40, h - 30)], fill=(0, 0, 0))
    draw.text((60, h - 80), label, font=_font(30), fill=(255, 215, 0))
    image.save(path, "JPEG", quality=85)


def speak(path: Path, text: str, voice: str = "vi", ffmpeg_bin: str = "ffmpeg") -> None:
    """Write a WAV file of *text* spoken by espeak-ng, or a tone sequence if espeak-ng is missing."""
    if shutil.which("espeak-ng"):
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", "140", "-w", str(path), text[:600]],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return
    subprocess.run(
        [
            ffmpeg_bin,
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=330:duration=6",
            "-ac",
            "1",
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )


def pattern_video(path: Path, seconds: int = 4, ffmpeg_bin: str = "ffmpeg", label: str = "") -> None:
    """Write a short H.264/AAC MP4 test pattern with a tone; the label varies colours and pitch."""
    seed = int(hashlib.sha256(label.encode()).hexdigest()[:4], 16)
    video = f"testsrc2=size=640x360:rate=25:duration={seconds},hue=h={seed % 360}"
    audio = f"sine=frequency={220 + seed % 440}:duration={seconds}"
    args = [ffmpeg_bin, "-v", "error", "-y", "-f", "lavfi", "-i", video, "-f", "lavfi", "-i", audio,
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k",
            "-shortest", "-movflags", "+faststart", str(path)]  # fmt: skip
    subprocess.run(args, check=True, capture_output=True, timeout=120)
