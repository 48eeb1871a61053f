"""Hand landmarker model bundles, built in memory from the models inside the mediapipe wheel.

``mediapipe==0.10.21`` ships the palm detection and hand landmark ``.tflite`` files but no
``hand_landmarker.task``. The Tasks API accepts a bundle passed as bytes: an uncompressed zip
holding ``hand_detector.tflite`` and ``hand_landmarks_detector.tflite``. The lite palm model
ships without the TFLite metadata the Tasks graph needs (input normalization, labels), so we
attach the full palm model's metadata and its ``labels.txt`` to it.
"""

from __future__ import annotations

import functools
import io
import os
import zipfile
from pathlib import Path

from gesturekit._exceptions import InputError, ModelError

__all__ = ["MODEL_NAMES", "model_bundle", "packaged_model_dir"]

MODEL_NAMES = ("lite", "full")


def packaged_model_dir() -> Path:
    """Folder of the ``modules/`` tree inside the installed mediapipe package."""
    try:
        import mediapipe
    except ImportError as e:  # pragma: no cover - mediapipe is a hard dependency
        raise ModelError("mediapipe is not installed: pip install 'mediapipe==0.10.21'") from e
    return Path(os.path.dirname(mediapipe.__file__)) / "modules"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise ModelError(
            f"model file {path} is missing from the mediapipe package; gesturekit needs "
            "mediapipe==0.10.21 (the last wheel that ships the hand models) or model: PATH.task"
        ) from e


def _with_palm_metadata(lite_palm: bytes, full_palm: bytes) -> bytes:
    """Return the lite palm model with the full palm model's metadata and labels attached."""
    from mediapipe.tasks.python.metadata import metadata

    populator = metadata.MetadataPopulator.with_model_buffer(lite_palm)
    populator.load_metadata_and_associated_files(full_palm)
    populator.populate()
    return populator.get_model_buffer()


@functools.cache
def model_bundle(model: str) -> bytes:
    """The ``hand_landmarker.task`` bytes for ``model``: ``"lite"``, ``"full"`` or a ``.task`` path.

    Built once per process and cached.
    """
    if model not in MODEL_NAMES:
        path = Path(model)
        if path.suffix != ".task":
            raise InputError(f"unknown model {model!r}: use 'lite', 'full' or a path to a hand_landmarker.task file")
        if not path.is_file():
            raise InputError(f"model file not found: {model}")
        data = path.read_bytes()
        if not zipfile.is_zipfile(io.BytesIO(data)):
            raise InputError(f"{model} is not a MediaPipe .task bundle (not a zip file)")
        return data

    root = packaged_model_dir()
    landmarks = _read(root / "hand_landmark" / f"hand_landmark_{model}.tflite")
    palm_full = _read(root / "palm_detection" / "palm_detection_full.tflite")
    if model == "full":
        palm = palm_full
    else:
        try:
            palm = _with_palm_metadata(_read(root / "palm_detection" / "palm_detection_lite.tflite"), palm_full)
        except ModelError:
            raise
        except Exception as e:  # metadata tools raise plain ValueErrors
            raise ModelError(f"could not attach metadata to the lite palm model: {e}") from e

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("hand_detector.tflite", palm)
        z.writestr("hand_landmarks_detector.tflite", landmarks)
    return buf.getvalue()
