"""Still images: one file, a directory, or a glob pattern."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator

import cv2

from gesturekit._exceptions import SourceError
from gesturekit.sources.base import SourceItem
from gesturekit.util.native import quiet_native_stderr

__all__ = ["ImageSource", "IMAGE_EXTENSIONS", "read_image"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def read_image(path: str):  # noqa: ANN201 - numpy array
    """Decode an image file to BGR, or raise :class:`SourceError` with one clear line."""
    if not os.path.exists(path):
        raise SourceError(f"file not found: {path}")
    if os.path.isdir(path) or not os.access(path, os.R_OK):
        raise SourceError(f"cannot read file: {path}")
    with quiet_native_stderr():  # libpng warns about harmless colour profiles
        img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise SourceError(f"not a readable image: {path}")
    return img


def expand_images(spec: str) -> list[str]:
    """Files named by ``spec``: a file, a directory's images (sorted) or a glob pattern."""
    if os.path.isdir(spec):
        files = sorted(os.path.join(spec, f) for f in os.listdir(spec) if f.lower().endswith(IMAGE_EXTENSIONS))
        if not files:
            raise SourceError(f"no images in directory: {spec}")
        return files
    if any(c in spec for c in "*?["):
        files = sorted(glob.glob(spec))
        if not files:
            raise SourceError(f"no files match: {spec}")
        return files
    return [spec]


class ImageSource:
    """Independent still images (tracked one by one, never dropped)."""

    live = False
    mode = "image"

    def __init__(self, spec: str | list[str]) -> None:
        self.files = expand_images(spec) if isinstance(spec, str) else list(spec)
        self.name = os.path.basename(spec.rstrip("/")) if isinstance(spec, str) else "images"
        for f in self.files:  # fail before any work is done
            if not os.path.exists(f):
                raise SourceError(f"file not found: {f}")

    def __iter__(self) -> Iterator[SourceItem]:
        for i, f in enumerate(self.files):
            yield SourceItem(i, float(i), read_image(f), name=f)

    def close(self) -> None:
        pass
