"""Labelled landmark datasets: a folder that only ever grows by appending.

A dataset is a directory holding

- ``samples.jsonl``: one labelled hand per line (:class:`Sample`), appended and flushed one at a
  time, so a crash or Ctrl-C loses at most the line being written (a torn last line is skipped
  with a warning when read);
- ``processed.jsonl``: one line per input file already handled (with how many samples it gave,
  or why it failed), so an interrupted import or extraction resumes where it stopped;
- ``dataset.json``: the format version and where the data came from (for model cards).

Reading gives numpy arrays (:class:`SampleArrays`); nothing is unpickled.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gesturekit._exceptions import InputError

__all__ = ["DATASET_FORMAT", "Sample", "SampleArrays", "DatasetWriter", "read_dataset", "iter_samples",
           "processed_sources", "dataset_info"]

log = logging.getLogger("gesturekit.learn")

#: Version of the on-disk format written by :class:`DatasetWriter`.
DATASET_FORMAT = 1
SAMPLES, PROCESSED, INFO = "samples.jsonl", "processed.jsonl", "dataset.json"


@dataclass(frozen=True)
class Sample:
    """One labelled hand.

    :param label: the class (``"A"``, ``"fist"``, ...).
    :param keypoints: (21, 2) pixels, or image-normalized coordinates when ``width``/``height``
        are 0 (data that came without an image size, e.g. an imported landmark file).
    :param keypoints3d: (21, 3) metres (MediaPipe world landmarks), or all-NaN when unknown.
    :param handedness: ``left``, ``right`` or ``unknown`` (anatomical).
    :param group: who or what session the sample came from (signer, person id); the unit of
        leave-one-group-out evaluation.
    :param source: the file (or camera) it came from; ``frame``: its frame index there.
    """

    label: str
    keypoints: np.ndarray
    keypoints3d: np.ndarray
    handedness: str = "unknown"
    group: str = ""
    source: str = ""
    frame: int = 0
    width: int = 0
    height: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of one ``samples.jsonl`` line (strict JSON: NaN becomes null)."""
        def arr(a: np.ndarray) -> list:
            return [[None if not math.isfinite(v) else round(float(v), 6) for v in row] for row in np.asarray(a)]

        return {"label": self.label, "group": self.group, "source": self.source, "frame": int(self.frame),
                "handedness": self.handedness, "width": int(self.width), "height": int(self.height),
                "keypoints": arr(self.keypoints), "keypoints3d": arr(self.keypoints3d),
                **({"extra": dict(self.extra)} if self.extra else {})}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Sample:
        """Parse one line; raises :class:`~gesturekit.InputError` on a malformed one."""
        try:
            kp = np.array(d["keypoints"], dtype=np.float64)
            k3 = d.get("keypoints3d")
            kp3 = np.full((21, 3), np.nan) if k3 is None else np.array(k3, dtype=np.float64)
            if kp.shape != (21, 2) or kp3.shape != (21, 3):
                raise ValueError(f"keypoints shape {kp.shape}, keypoints3d shape {kp3.shape}")
            if not np.isfinite(kp).all():
                raise ValueError("keypoints must be finite")
            return cls(label=str(d["label"]), keypoints=kp, keypoints3d=kp3,
                       handedness=str(d.get("handedness", "unknown")), group=str(d.get("group", "")),
                       source=str(d.get("source", "")), frame=int(d.get("frame", 0)),
                       width=int(d.get("width", 0)), height=int(d.get("height", 0)),
                       extra=dict(d.get("extra") or {}))
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(f"bad sample: {type(e).__name__}: {e}") from None


@dataclass(frozen=True)
class SampleArrays:
    """A dataset as arrays, one row per sample."""

    labels: np.ndarray       # (N,) str
    keypoints: np.ndarray    # (N, 21, 2)
    keypoints3d: np.ndarray  # (N, 21, 3), NaN where unknown
    handedness: np.ndarray   # (N,) str
    groups: np.ndarray       # (N,) str
    sources: np.ndarray      # (N,) str
    frames: np.ndarray       # (N,) int
    sizes: np.ndarray        # (N, 2) width, height (0, 0 when keypoints are normalized)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, mask: np.ndarray) -> SampleArrays:
        """The rows where ``mask`` (a boolean or index array) selects."""
        return SampleArrays(**{k: getattr(self, k)[mask] for k in self.__dataclass_fields__})

    @classmethod
    def concat(cls, parts: Iterable[SampleArrays]) -> SampleArrays:
        """Rows of several datasets, one after another."""
        parts = list(parts)
        return cls(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in cls.__dataclass_fields__})

    @classmethod
    def from_samples(cls, samples: Iterable[Sample]) -> SampleArrays:
        s = list(samples)
        return cls(
            labels=np.array([x.label for x in s], dtype=object).astype(str),
            keypoints=np.array([x.keypoints for x in s], dtype=np.float64).reshape(-1, 21, 2),
            keypoints3d=np.array([x.keypoints3d for x in s], dtype=np.float64).reshape(-1, 21, 3),
            handedness=np.array([x.handedness for x in s], dtype=object).astype(str),
            groups=np.array([x.group for x in s], dtype=object).astype(str),
            sources=np.array([x.source for x in s], dtype=object).astype(str),
            frames=np.array([x.frame for x in s], dtype=np.int64),
            sizes=np.array([(x.width, x.height) for x in s], dtype=np.int64).reshape(-1, 2),
        )


class DatasetWriter:
    """Appends samples to a dataset folder (created if missing); use as a context manager.

    Every :meth:`add` writes and flushes one line, so what was added survives a crash.
    :meth:`mark_processed` records that an input file is done (see :func:`processed_sources`).
    """

    def __init__(self, path: str | os.PathLike, origin: str | None = None, fsync: bool = False) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise InputError(f"{self.path}: a dataset is a folder, and this is a file")
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = _lock_folder(self.path)
        info = dataset_info(self.path)
        if origin and origin not in info.setdefault("origins", []):
            info["origins"].append(origin)
        info["format"] = DATASET_FORMAT
        _write_json_atomic(self.path / INFO, info)
        self._fsync = fsync
        self._samples = open(self.path / SAMPLES, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._processed = open(self.path / PROCESSED, "a", encoding="utf-8")  # noqa: SIM115
        self.count = 0

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _append(self, f: Any, obj: Mapping[str, Any]) -> None:
        f.write(json.dumps(obj, allow_nan=False, separators=(",", ":")) + "\n")
        f.flush()
        if self._fsync:
            os.fsync(f.fileno())

    def add(self, sample: Sample) -> None:
        """Append one sample."""
        self._append(self._samples, sample.to_dict())
        self.count += 1

    def mark_processed(self, source: str, samples: int, error: str | None = None) -> None:
        """Record that ``source`` was handled (``error``: why it gave nothing)."""
        self._append(self._processed, {"source": source, "samples": int(samples), "error": error})

    def close(self) -> None:
        for f in (self._samples, self._processed, self._lock):
            if f is not None and not f.closed:
                f.close()


LOCK = ".writing.lock"


def _lock_folder(path: Path) -> Any:
    """An exclusive lock on the dataset folder while one writer appends (two writers would add
    every input twice); released when the writer closes or its process ends."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        return None
    f = open(path / LOCK, "a")  # noqa: SIM115 - held until close()
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise InputError(f"{path}: another process is writing to this dataset; wait for it to finish") from None
    return f


def _write_json_atomic(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def dataset_info(path: str | os.PathLike) -> dict[str, Any]:
    """The ``dataset.json`` of a dataset (empty when there is none yet)."""
    p = Path(path) / INFO
    if not p.exists():
        return {}
    try:
        info = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"{p}: not a readable dataset description ({e})") from None
    if not isinstance(info, dict):
        raise InputError(f"{p}: not a dataset description (expected a JSON object)")
    return info


def _lines(path: Path) -> Iterator[tuple[int, dict]]:
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            if n == len(lines) and not line.endswith("\n"):
                log.warning("%s: skipping a torn last line (an interrupted write)", path)
                continue
            raise InputError(f"{path}:{n}: not a JSON line") from None
        if not isinstance(obj, dict):
            raise InputError(f"{path}:{n}: expected a JSON object")
        yield n, obj


def iter_samples(path: str | os.PathLike) -> Iterator[Sample]:
    """The samples of a dataset folder, in the order they were added."""
    p = Path(path)
    f = p / SAMPLES if p.is_dir() else p
    if not f.exists():
        raise InputError(f"{path}: no dataset here (no {SAMPLES})")
    for n, obj in _lines(f):
        try:
            yield Sample.from_dict(obj)
        except InputError as e:
            raise InputError(f"{f}:{n}: {e}") from None


def read_dataset(path: str | os.PathLike) -> SampleArrays:
    """All samples of a dataset folder as arrays."""
    return SampleArrays.from_samples(iter_samples(path))


def processed_sources(path: str | os.PathLike) -> set[str]:
    """Input files an earlier run already handled (to skip them when resuming)."""
    f = Path(path) / PROCESSED
    return {str(obj.get("source")) for _, obj in _lines(f)} if f.exists() else set()
