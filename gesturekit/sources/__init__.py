"""Frame sources: camera, video file, images, RTSP/HTTP streams and landmark replays."""

from __future__ import annotations

import os
import re

from gesturekit._exceptions import SourceError
from gesturekit.sources.base import Source, SourceItem, ThreadedReader
from gesturekit.sources.images import IMAGE_EXTENSIONS, ImageSource, read_image
from gesturekit.sources.video import CameraSource, StreamSource, VideoFileSource

__all__ = [
    "Source", "SourceItem", "ThreadedReader", "ImageSource", "VideoFileSource", "CameraSource",
    "StreamSource", "open_source", "source_kind", "read_image", "IMAGE_EXTENSIONS",
]


def source_kind(spec: str) -> str:
    """What :func:`open_source` opens for ``spec``: ``camera``, ``stream``, ``recording``,
    ``images`` (a file, folder or glob of still images) or ``video``."""
    spec = str(spec)
    if re.fullmatch(r"\d+", spec):
        return "camera"
    if re.match(r"^(rtsp|rtmp|https?)://", spec, re.I):
        return "stream"
    if spec.endswith((".jsonl", ".ndjson")):
        return "recording"
    if os.path.isdir(spec) or any(c in spec for c in "*?[") or spec.lower().endswith(IMAGE_EXTENSIONS):
        return "images"
    return "video"


def open_source(spec: str, realtime: bool = False, reconnect: bool = True, max_pixels: int | None = None) -> Source:
    """Open ``spec``: a camera index (``0``), ``rtsp://``/``http(s)://`` URL, landmark
    recording (``.jsonl``), image file / directory / glob, or video file.

    ``max_pixels`` raises (or with ``0`` lifts) the limit on image and video frame sizes."""
    from gesturekit.sources.recording import ReplaySource

    spec = str(spec)
    kind = source_kind(spec)
    if kind == "camera":
        return CameraSource(int(spec), reconnect=reconnect)
    if kind == "stream":
        return StreamSource(spec, reconnect=reconnect)
    if kind == "recording":
        return ReplaySource(spec, realtime=realtime)
    if kind == "images":
        return ImageSource(spec, max_pixels=max_pixels)
    if not os.path.exists(spec):
        raise SourceError(f"file not found: {spec}")
    return VideoFileSource(spec, realtime=realtime, max_pixels=max_pixels)
