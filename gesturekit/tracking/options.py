"""The tracker's options: one pydantic model shared by the Python API, the YAML config
(``tracker:`` section) and the CLI (one ``--flag`` per field, generated from this model)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gesturekit._exceptions import InputError
from gesturekit.tracking.models import MODEL_NAMES

__all__ = ["TrackerOptions"]

_TILES_NEED_IMAGES = "tiles work on still images (mode 'image'); leave tiles unset or false for video"


class TrackerOptions(BaseModel):
    """Options of :class:`~gesturekit.tracking.Tracker`.

    A bad value raises pydantic's ``ValidationError`` (a ``ValueError``); :meth:`create` raises
    :class:`~gesturekit.InputError` with one line instead, and inside a config file the error names
    the file, line and field.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field("full", description="'lite', 'full' or a path to a hand_landmarker .task file")
    max_hands: int = Field(2, ge=1, le=4, description="most hands tracked at once")
    min_detection_confidence: float = Field(0.5, ge=0, le=1, description="palm detector threshold")
    min_presence_confidence: float = Field(0.5, ge=0, le=1,
                                           description="hand presence threshold of the landmark model")
    min_tracking_confidence: float = Field(0.5, ge=0, le=1,
                                           description="below this, the palm detector runs again")
    device: Literal["cpu", "gpu"] = Field("cpu", description="inference device (MediaPipe's GPU delegate: "
                                                             "no silent fallback)")
    mirrored: bool | None = Field(None, description="the image is a mirrored selfie view; unset: cameras and "
                                                    "streams are, files and images are not")
    mode: Literal["video", "image"] | None = Field(None, description="'video' (frames of one stream, tracked) or "
                                                                      "'image' (independent images); unset: from "
                                                                      "the source")
    smoothing: bool = Field(False, description="One-Euro filter on each track's keypoints (video only)")
    smoothing_min_cutoff: float = Field(1.0, gt=0, description="One-Euro min_cutoff in Hz (less = smoother "
                                                               "when still)")
    smoothing_beta: float = Field(0.05, ge=0, description="One-Euro beta (more = less lag when moving)")
    tiles: bool | None = Field(None, description="when an image shows fewer than max_hands hands, look again at "
                                                 "overlapping tiles for small ones (still images only; costs "
                                                 "several more model runs); unset: on in image mode")

    @field_validator("model")
    @classmethod
    def _known_model(cls, v: str) -> str:
        if v not in MODEL_NAMES and not str(v).endswith(".task"):
            raise ValueError(f"unknown model {v!r}: use 'lite', 'full' or a path to a .task file")
        return v

    @model_validator(mode="after")
    def _tiles_need_images(self) -> TrackerOptions:
        if self.tiles and self.mode == "video":
            raise ValueError(_TILES_NEED_IMAGES)
        return self

    @classmethod
    def create(cls, **data: Any) -> TrackerOptions:
        """``TrackerOptions(**data)``, with a bad value as one :class:`~gesturekit.InputError` line."""
        try:
            return cls(**data)
        except ValidationError as e:
            err = e.errors()[0]
            field = ".".join(str(p) for p in err.get("loc", ()))
            msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            if not field:  # a rule across fields
                raise InputError(f"tracker options: {msg}") from None
            raise InputError(f"tracker option {field}: {msg}, got {err.get('input')!r}") from None

    def resolved(self, *, live: bool, mode: str | None = None) -> TrackerOptions:
        """These options with the unset ones decided by the source: ``mirrored`` for a live
        source (a selfie camera view), ``mode`` from the source (``image`` for still images),
        ``tiles`` from the mode (on for still images).

        :raises InputError: ``tiles`` was asked for and the source is a video.
        """
        update: dict[str, Any] = {}
        if self.mirrored is None:
            update["mirrored"] = bool(live)
        if self.mode is None:
            update["mode"] = mode or "video"
        final_mode = update.get("mode", self.mode)
        if self.tiles is None:
            update["tiles"] = final_mode == "image"
        elif self.tiles and final_mode == "video":
            raise InputError(f"tracker option tiles: {_TILES_NEED_IMAGES} (this source is tracked as video)")
        return self.model_copy(update=update) if update else self
