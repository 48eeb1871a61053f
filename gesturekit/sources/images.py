"""Still images: one file, a directory, or a glob pattern.

An image larger than :data:`MAX_IMAGE_PIXELS` (width x height) is refused before it is
decoded: its size is read from the file's header (PNG, JPEG, BMP, WebP, TIFF, PNM). Pass
``max_pixels`` to :func:`read_image` / :class:`ImageSource` (``0`` = no limit), or set the
environment variable ``GESTUREKIT_MAX_IMAGE_PIXELS``, to move the limit. A folder is decoded
one image at a time while it is tracked. A JPEG cut short (no end-of-image marker) is still
tracked, with a warning naming the file; a PNG cut short cannot be decoded and is an error.
"""

from __future__ import annotations

import glob
import logging
import mmap
import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

import cv2

from gesturekit._exceptions import InputError, SourceError
from gesturekit.sources.base import SourceItem
from gesturekit.util.native import quiet_native_stderr

__all__ = ["ImageSource", "IMAGE_EXTENSIONS", "MAX_IMAGE_PIXELS", "read_image", "image_size", "check_image"]

log = logging.getLogger("gesturekit.sources")

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")

#: Default pixel limit (width x height) of one image or video frame: 40 megapixels, above any
#: camera's frame and far below what exhausts memory (a 40 MP BGR image takes 120 MB).
MAX_IMAGE_PIXELS = 40_000_000
#: The environment variable that overrides :data:`MAX_IMAGE_PIXELS` (``0`` = no limit).
MAX_PIXELS_ENV = "GESTUREKIT_MAX_IMAGE_PIXELS"


def default_max_pixels() -> int:
    """The pixel limit in force: ``$GESTUREKIT_MAX_IMAGE_PIXELS`` or :data:`MAX_IMAGE_PIXELS`."""
    env = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not env:
        return MAX_IMAGE_PIXELS
    try:
        v = int(float(env))
    except ValueError:
        v = -1
    if v < 0:
        raise InputError(f"{MAX_PIXELS_ENV} must be a whole number of pixels >= 0 (0 = no limit), got {env!r}")
    return v


def _limit(max_pixels: int | None) -> int:
    if max_pixels is None:
        return default_max_pixels()
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 0:
        raise InputError(f"max_pixels must be a whole number >= 0 (0 = no limit), got {max_pixels!r}")
    return max_pixels


def check_pixels(width: int, height: int, what: str, max_pixels: int | None = None) -> None:
    """Raise :class:`SourceError` when ``width x height`` is over the pixel limit."""
    limit = _limit(max_pixels)
    if limit and width * height > limit:
        raise SourceError(f"{what}: {width}x{height} is {width * height / 1e6:.1f} megapixels, over the limit of "
                          f"{limit / 1e6:g} megapixels (raise it with max_pixels or ${MAX_PIXELS_ENV})")


# header parsers: each reads the dimensions from an open file, or returns None -----------------

def _png(f: BinaryIO, head: bytes) -> tuple[int, int] | None:
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR" or len(head) < 24:
        return None
    return struct.unpack(">II", head[16:24])


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_segments(f: BinaryIO) -> Iterator[tuple[int, int, int]]:
    """``(marker, offset of the marker, segment length)`` of a JPEG's header segments, up to and
    including the first start-of-scan (``0xDA``); like libjpeg, stray bytes between segments
    are skipped."""
    f.seek(2)
    for _ in range(100_000):
        b = f.read(1)
        while b and b != b"\xff":
            b = f.read(1)
        m = f.read(1)
        while m == b"\xff":  # fill bytes
            m = f.read(1)
        if not b or not m:
            return
        marker, at = m[0], f.tell() - 2
        if marker == 0x00 or marker == 0x01 or 0xD0 <= marker <= 0xD8:  # no length
            continue
        seg = f.read(2)
        if len(seg) < 2:
            return
        length = struct.unpack(">H", seg)[0]
        yield marker, at, length
        if marker in (0xDA, 0xD9) or length < 2:
            return
        f.seek(at + 2 + length)


def _jpeg(f: BinaryIO, head: bytes) -> tuple[int, int] | None:
    if head[:2] != b"\xff\xd8":
        return None
    for marker, at, _length in _jpeg_segments(f):
        if marker in _SOF:
            f.seek(at + 4)
            body = f.read(5)
            if len(body) < 5:
                return None
            h, w = struct.unpack(">HH", body[1:5])
            return (w, h) if h else None  # height 0: given later by a DNL marker
    return None


def _bmp(f: BinaryIO, head: bytes) -> tuple[int, int] | None:
    if head[:2] != b"BM" or len(head) < 26:
        return None
    dib = struct.unpack("<I", head[14:18])[0]
    if dib == 12:
        return struct.unpack("<HH", head[18:22])
    w, h = struct.unpack("<ii", head[18:26])
    return abs(w), abs(h)


def _webp(f: BinaryIO, head: bytes) -> tuple[int, int] | None:
    if head[:4] != b"RIFF" or head[8:12] != b"WEBP" or len(head) < 30:
        return None
    kind = head[12:16]
    if kind == b"VP8X":
        w = int.from_bytes(head[24:27], "little") + 1
        h = int.from_bytes(head[27:30], "little") + 1
        return w, h
    if kind == b"VP8L" and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", head[26:30])
        return w & 0x3FFF, h & 0x3FFF
    return None


def _tiff(f: BinaryIO, head: bytes) -> tuple[int, int] | None:
    if head[:4] == b"II*\x00":
        e = "<"
    elif head[:4] == b"MM\x00*":
        e = ">"
    else:
        return None
    f.seek(struct.unpack(e + "I", head[4:8])[0])
    n = f.read(2)
    if len(n) < 2:
        return None
    size: dict[int, int] = {}
    for _ in range(min(struct.unpack(e + "H", n)[0], 4096)):
        entry = f.read(12)
        if len(entry) < 12:
            break
        tag, typ = struct.unpack(e + "HH", entry[:4])
        if tag in (256, 257):
            if typ == 3:  # SHORT
                size[tag] = struct.unpack(e + "H", entry[8:10])[0]
            elif typ == 4:  # LONG
                size[tag] = struct.unpack(e + "I", entry[8:12])[0]
        if len(size) == 2:
            return size[256], size[257]
    return None


def _pnm(f: BinaryIO, head: bytes) -> tuple[int, int] | None:
    if len(head) < 3 or head[0:1] != b"P" or head[1:2] not in b"123456" or head[2:3] not in b" \t\r\n#":
        return None
    nums: list[int] = []
    for line in head[2:].split(b"\n"):
        for tok in line.split(b"#", 1)[0].split():
            if not tok.isdigit():
                return None
            nums.append(int(tok))
            if len(nums) == 2:
                return nums[0], nums[1]
    return None


_PARSERS = (_png, _jpeg, _bmp, _webp, _tiff, _pnm)
_MAGIC = (b"\x89PNG", b"\xff\xd8", b"BM", b"RIFF", b"II*\x00", b"MM\x00*", b"P1", b"P2", b"P3", b"P4", b"P5", b"P6")


def image_size(path: str) -> tuple[int, int] | None:
    """``(width, height)`` read from the file's header, without decoding the image; ``None``
    when the header is not one gesturekit can read (not an image, or an unusual format)."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
            for parse in _PARSERS:
                f.seek(0)
                try:
                    size = parse(f, head)
                except (struct.error, OSError, IndexError):
                    size = None
                if size is not None:
                    return int(size[0]), int(size[1])
    except OSError as e:
        raise SourceError(f"cannot read file: {path} ({e.strerror or e})") from None
    return None


def check_image(path: str, max_pixels: int | None = None) -> tuple[int, int] | None:
    """Check ``path`` without decoding it: it exists, is readable and is within the pixel limit.

    :returns: its ``(width, height)``, or ``None`` when the header does not tell (the decode
        will say whether it is an image).
    :raises SourceError: naming the file.
    """
    if not os.path.exists(path):
        raise SourceError(f"file not found: {path}")
    if os.path.isdir(path) or not os.access(path, os.R_OK):
        raise SourceError(f"cannot read file: {path}")
    limit = _limit(max_pixels)
    size = image_size(path)
    if size is not None:
        check_pixels(size[0], size[1], path, limit)
    return size


def _truncated(path: str) -> str | None:
    """``"JPEG"`` / ``"PNG"`` when the file is such an image cut short (no end marker)."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if not (head[:2] == b"\xff\xd8" or head == b"\x89PNG\r\n\x1a\n"):
                return None
            if os.fstat(f.fileno()).st_size < 16:
                return "JPEG" if head[:2] == b"\xff\xd8" else "PNG"
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
                if head[:2] == b"\xff\xd8":
                    # The end marker follows the scan data (an EXIF thumbnail has its own, earlier).
                    sos = next((at for marker, at, _ in _jpeg_segments(f) if marker == 0xDA), -1)
                    return None if sos >= 0 and m.find(b"\xff\xd9", sos) >= 0 else "JPEG"
                return None if m.rfind(b"IEND") >= 0 else "PNG"
    except (OSError, ValueError):
        return None


def _opencv_reads(path: str) -> bool:
    """Whether OpenCV has a decoder for the file's signature (nothing is decoded)."""
    with quiet_native_stderr():
        try:
            return bool(cv2.haveImageReader(path))
        except cv2.error:  # a codec built in but disabled: it would be refused when decoding
            return False


def read_image(path: str, max_pixels: int | None = None):  # noqa: ANN201 - numpy array
    """Decode an image file to BGR, or raise :class:`SourceError` with one clear line.

    :param max_pixels: refuse an image larger than this (width x height) before decoding it;
        ``None``: :data:`MAX_IMAGE_PIXELS` (or ``$GESTUREKIT_MAX_IMAGE_PIXELS``), ``0``: no limit.
    """
    limit = _limit(max_pixels)
    size = check_image(path, limit)
    if size is None and limit and _opencv_reads(path):
        with open(path, "rb") as f:
            head = f.read(8)
        if head.startswith(_MAGIC):  # one of ours with a header that does not parse: broken
            raise SourceError(f"not a readable image: {path}")
        # A format OpenCV decodes but whose header gesturekit does not read (JPEG 2000, EXR, ...)
        raise SourceError(f"cannot check the size of {path} before decoding it (gesturekit reads the size of "
                          f"PNG, JPEG, BMP, WebP, TIFF and PNM images); convert it, or set max_pixels=0")
    with quiet_native_stderr():  # libpng warns about harmless colour profiles
        try:
            img = cv2.imread(path, cv2.IMREAD_COLOR)
        except cv2.error:  # e.g. a codec built in but disabled (OpenEXR)
            img = None
    if img is None:
        cut = _truncated(path)
        if cut:
            raise SourceError(f"not a readable image (a truncated {cut} file): {path}")
        raise SourceError(f"not a readable image: {path}")
    h, w = img.shape[:2]
    check_pixels(w, h, path, limit)  # the header may have lied
    cut = _truncated(path)
    if cut:
        log.warning("%s: truncated %s file (no end-of-image marker); tracking the part that decoded", path, cut)
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
    """Independent still images (tracked one by one, never dropped).

    Every file is checked before any work is done (it exists, its header is within the pixel
    limit); the images are then decoded one at a time while they are tracked.

    :param max_pixels: see :func:`read_image`.
    """

    live = False
    mode = "image"
    #: decode at most one image ahead of the tracker (:class:`~gesturekit.sources.ThreadedReader`)
    prefetch = 1

    def __init__(self, spec: str | list[str], max_pixels: int | None = None) -> None:
        self.files = expand_images(spec) if isinstance(spec, str) else list(spec)
        self.name = os.path.basename(spec.rstrip("/")) if isinstance(spec, str) else "images"
        self.max_pixels = _limit(max_pixels)
        for f in self.files:  # fail before any work is done
            if not os.path.exists(f):
                raise SourceError(f"file not found: {f}")
            if not os.path.isdir(f) and os.access(f, os.R_OK):
                size = image_size(f)
                if size is not None:
                    check_pixels(size[0], size[1], f, self.max_pixels)

    def __iter__(self) -> Iterator[SourceItem]:
        for i, f in enumerate(self.files):
            yield SourceItem(i, float(i), read_image(f, self.max_pixels), name=f)

    def close(self) -> None:
        pass
