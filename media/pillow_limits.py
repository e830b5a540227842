"""One process-wide guard around Pillow's decompression-bomb limit, shared by every module that decodes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image

_LOCK = threading.Lock()


@contextmanager
def allow_pixels(max_pixels: int) -> Iterator[None]:
    """Let Pillow decode images of up to *max_pixels* while the block runs.

    Pillow's limit is a module global. It is only ever raised (never lowered or disabled), and only under
    one lock for the whole process, so two decodes cannot interleave their changes; it is put back at the
    end. When the limit is already high enough nothing is touched and no lock is taken.
    """
    current = Image.MAX_IMAGE_PIXELS
    if current is None or current >= max_pixels:
        yield
        return
    with _LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        raised = saved is not None and saved < max_pixels
        if raised:
            Image.MAX_IMAGE_PIXELS = max_pixels
        try:
            yield
        finally:
            if raised:
                Image.MAX_IMAGE_PIXELS = saved
