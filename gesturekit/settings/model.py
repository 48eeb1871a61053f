"""The one settings model: source, tracker, gestures, classifiers, temporal, bus, sinks, bindings,
observers, health, plugins. The Python API, the YAML config (``daemon --config``, ``run
--config``) and the CLI flags (overrides of the same fields) all produce a :class:`Settings`.

Sections of plugin factories (a sink's ``port``, a classifier's ``model``) are validated by the
options model the factory registered (:mod:`gesturekit.settings.plugin_options`) when the chain
is built; this model only knows the keys the core uses (``type``, ``enabled``, a sink's
``queue_size`` and ``durable``).
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from gesturekit.sinks.security import needs_token
from gesturekit.tracking.options import TrackerOptions

__all__ = ["Settings", "SourceSettings", "SectionSettings", "SinkSection", "BusSettings", "DashboardSettings",
           "HealthSettings",
           "TemporalSettings", "TimingSettings", "ParallelSettings", "CORE_SINK_KEYS"]

#: Keys of a sink section that the bus uses; the rest goes to the sink's factory.
CORE_SINK_KEYS = ("type", "enabled", "queue_size", "durable")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _resolve(path: str, info: ValidationInfo) -> str:
    base = (info.context or {}).get("base_dir")
    path = os.path.expanduser(path)
    if not base or os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(base, path))


def _must_exist(path: str, info: ValidationInfo) -> str:
    if (info.context or {}).get("check_paths", True) and not os.path.exists(path):
        raise ValueError(f"not found: {path}")
    return path


class SourceSettings(BaseModel):
    """Where frames come from: ``uri`` (camera index, video, image/folder/glob, URL, ``.jsonl``
    recording) or ``type`` (a plugin source, with its own options beside it)."""

    model_config = ConfigDict(extra="allow")

    uri: str | None = Field(None, description="camera index (0), video file, image/folder/glob, rtsp:// or "
                                              "http:// URL, or a .jsonl landmark recording")
    type: str | None = Field(None, description="a plugin source type instead of uri; its options go beside it")
    realtime: bool = Field(False, description="pace files at their frame rate")
    loop: bool = Field(False, description="start a file again when it ends (daemon)")
    reconnect: bool = Field(True, description="reopen a camera or stream that goes away, with backoff")
    max_frames: int | None = Field(None, ge=1, description="stop after this many frames")
    max_pixels: int | None = Field(None, ge=0, description="refuse images larger than this many pixels (0 = no limit) "
                                                           "(default: the documented limit)")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError("must be a camera index, a file name, a URL or a mapping with uri")
        if isinstance(v, (int, str)):
            return {"uri": str(v)}
        if isinstance(v, dict) and isinstance(v.get("uri"), int) and not isinstance(v.get("uri"), bool):
            return {**v, "uri": str(v["uri"])}
        return v

    @field_validator("uri")
    @classmethod
    def _file(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is None or v.isdigit() or "://" in v:
            return v
        v = _resolve(v, info)
        if not any(c in v for c in "*?[") and (info.context or {}).get("check_paths", True) \
                and not os.path.exists(v):
            raise ValueError(f"file not found: {v}")
        return v

    @model_validator(mode="after")
    def _one_of(self) -> SourceSettings:
        if self.uri is None and self.type is None:
            raise ValueError("needs uri (camera index, file or URL) or type (a plugin source)")
        if self.type is None and self.model_extra:
            raise ValueError(f"unknown setting {next(iter(self.model_extra))!r} (known: "
                             f"{', '.join(type(self).model_fields)})")
        return self

    @property
    def live(self) -> bool:
        """A camera or a stream (or a plugin source): mirrored by default, reconnected when lost."""
        uri = self.uri or ""
        return uri.isdigit() or "://" in uri or self.type is not None

    @property
    def label(self) -> str:
        """The ``source`` of events: ``camera:0``, a file's name, a URL without credentials."""
        if self.uri is None:
            return str(self.type)
        if self.uri.isdigit():
            return f"camera:{self.uri}"
        if "://" in self.uri:
            scheme, _, rest = self.uri.partition("://")
            return f"{scheme}://{rest.split('@')[-1]}"
        return os.path.basename(self.uri.rstrip("/")) or self.uri

    def options(self) -> dict[str, Any]:
        """A plugin source's own options (everything beside the known keys)."""
        return dict(self.model_extra or {})


class SectionSettings(BaseModel):
    """A named classifier or observer section: ``type`` (default: the section's name), ``enabled``,
    and the factory's own options beside them."""

    model_config = ConfigDict(extra="allow")

    type: str | None = Field(None, description="the factory (default: the section's name)")
    enabled: bool = Field(True, description="false leaves the section out")

    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class SinkSection(SectionSettings):
    """A named sink: the bus's keys, and the sink's own options beside them."""

    queue_size: int | None = Field(None, ge=1, description="events that may wait for this sink (oldest dropped)")
    durable: bool | None = Field(None, description="retry failed sends until they go through (default: the "
                                                   "sink's own choice)")


class BusSettings(_Section):
    """The event bus."""

    queue_size: int = Field(1024, ge=1, description="default events waiting per sink")
    frame_rate: float = Field(15.0, ge=0, description="most frames per second on the frame stream to sinks "
                                                      "that take frames (0 = none)")
    stats_interval: float = Field(60.0, ge=0, description="seconds between counter log lines (0 = never)")
    drain_timeout: float = Field(5.0, ge=0, description="seconds sinks get to drain their queues at shutdown")


class ParallelSettings(_Section):
    """Parallel tracking of video files (:mod:`gesturekit.tracking.parallel`): contiguous chunks on
    worker threads, stitched in frame order; live sources always use one worker."""

    workers: int | Literal["auto"] = Field("auto", description="trackers working on one video file at once "
                                                               "('auto': the CPU cores; 1: sequential)")
    warmup: int | None = Field(None, ge=1, le=1000, description="frames each chunk starts early so tracking "
                                                                "converges (default: from the frame rate)")
    sync: int | None = Field(None, ge=1, le=10000, description="frames the worker before goes on past a chunk's "
                                                               "start to find a frame both trackers give alike "
                                                               "(default: 2)")
    images: bool | None = Field(None, description="tracked frames carry their pixels (unset: only when an "
                                                  "observer or a gesturekit_frame hook is there to use them; "
                                                  "without, chunks are not decoded twice)")
    exact: bool = Field(False, description="hand over only where both trackers agree bit for bit: the "
                                           "sequential result exactly, faster only where hands leave the view")

    @field_validator("workers")
    @classmethod
    def _at_least_one(cls, v: int | str) -> int | str:
        if isinstance(v, int) and v < 1:
            raise ValueError("must be 1 or more, or 'auto'")
        return v


class DashboardSettings(_Section):
    """The web dashboard the status endpoint serves at ``/dashboard/`` (``health: {dashboard: true}``)."""

    enabled: bool = False
    frame_rate: float = Field(15.0, gt=0, le=120, description="most skeleton frames per second sent to the page")
    explain_rate: float = Field(4.0, ge=0, le=60, description="most explain readouts per second (0 = none)")
    history: int = Field(1000, ge=0, le=100000, description="past events a page gets when it connects")
    origins: list[str] = Field(default_factory=list, description="browser origins accepted besides this server's "
                                                                  "own and local pages")


class HealthSettings(_Section):
    """The daemon's status endpoint (``GET /status``)."""

    enabled: bool = True
    host: str = Field("127.0.0.1", description="address to listen on; beyond loopback it needs a token")
    port: int = Field(8766, ge=0, le=65535)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings,
                                         description="the web dashboard at /dashboard/ (true/false or a section)")
    token: str | None = Field(None, validate_default=True, description="Bearer token the endpoint requires")

    @field_validator("dashboard", mode="before")
    @classmethod
    def _dashboard_bool(cls, v: Any) -> Any:
        return {"enabled": v} if isinstance(v, bool) else v

    @field_validator("token")
    @classmethod
    def _token_off_loopback(cls, v: str | None, info: ValidationInfo) -> str | None:
        host = info.data.get("host", "127.0.0.1")
        if info.data.get("enabled", True) and needs_token(str(host), v):
            raise ValueError(f"the status endpoint on {host} is reachable from the network: set health.token "
                             "or use 127.0.0.1")
        return v


class TimingSettings(_Section):
    """Timing overrides (seconds); unset fields keep the gesture's own timing."""

    min_duration: float | None = Field(None, ge=0)
    hold_interval: float | None = Field(None, ge=0)
    update_interval: float | None = Field(None, ge=0)
    release: float | None = Field(None, ge=0)
    cooldown: float | None = Field(None, ge=0)
    update_threshold: float | None = Field(None, ge=0)

    def overrides(self) -> dict[str, float]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class TemporalSettings(TimingSettings):
    """The temporal engine: overrides for every gesture, and per gesture (``gestures: {pinch: ...}``)."""

    gestures: dict[str, TimingSettings] = Field(default_factory=dict)

    def overrides(self) -> dict[str, float]:
        return {k: v for k, v in self.model_dump(exclude={"gestures"}).items() if v is not None}


class Settings(_Section):
    """Everything a chain is built from. ``Settings.model_validate(data, context={"base_dir": ...})``
    resolves relative paths against ``base_dir`` (the config file's folder)."""

    version: Literal[1] = 1
    source: SourceSettings | None = Field(None, description="where frames come from")
    tracker: TrackerOptions = Field(default_factory=TrackerOptions)
    gestures: list[str] = Field(default_factory=list, description="your YAML gesture files or folders (for the "
                                                                   "rules classifier, with the built-in library)")
    classifiers: dict[str, SectionSettings] = Field(default_factory=dict,
                                                    description="named classifiers: {name: {type: ..., ...}}")
    temporal: TemporalSettings = Field(default_factory=TemporalSettings)
    bus: BusSettings = Field(default_factory=BusSettings)
    parallel: ParallelSettings = Field(default_factory=ParallelSettings)
    sinks: dict[str, SinkSection] = Field(default_factory=dict, description="named sinks: {name: {type: ..., ...}}")
    bindings: dict[str, Any] | None = Field(None, description="shortcut for a keyboard sink's bindings")
    observers: dict[str, SectionSettings] = Field(default_factory=dict,
                                                  description="named frame observers: {name: {type: ..., ...}}")
    health: HealthSettings = Field(default_factory=HealthSettings)
    plugins: dict[str, dict[str, Any] | None] = Field(default_factory=dict,
                                                      description="settings per plugin name (gesturekit_configure)")
    plugin_paths: list[str] = Field(default_factory=list, description=".py files or folders of plugins")
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    _path: str = PrivateAttr("")
    _lines: dict[str, int] = PrivateAttr(default_factory=dict)
    _base_dir: str = PrivateAttr("")
    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        return v.lower() if isinstance(v, str) else v

    @field_validator("gestures", "plugin_paths", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("gestures", "plugin_paths")
    @classmethod
    def _paths(cls, v: list[str], info: ValidationInfo) -> list[str]:
        return [_must_exist(_resolve(p, info), info) for p in v]

    @field_validator("classifiers", "sinks", "observers", mode="before")
    @classmethod
    def _sections(cls, v: Any) -> Any:
        if isinstance(v, list):
            raise ValueError("must map names to sections: {my_ws: {type: websocket, port: 8765}}")
        if isinstance(v, dict):
            return {str(k): ({} if s is None else s) for k, s in v.items()}
        return v

    @model_validator(mode="after")
    def _shortcuts(self) -> Settings:
        if self.bindings is not None:
            if "keyboard" in self.sinks:
                raise ValueError("both a top-level bindings section and a sink named keyboard: put the bindings in "
                                 "the sink")
            self.sinks["keyboard"] = SinkSection(type="keyboard", bindings=self.bindings)
        return self

    # where things are ---------------------------------------------------------------------------
    @property
    def path(self) -> str:
        """The config file these settings came from ("" when built in Python or from flags)."""
        return self._path

    @property
    def base_dir(self) -> str:
        return self._base_dir or os.getcwd()

    @property
    def lines(self) -> dict[str, int]:
        return self._lines

    @property
    def raw(self) -> dict[str, Any]:
        """The config as written (for ``gesturekit_configure``)."""
        return self._raw

    def line_of(self, field: str) -> int | None:
        """The line of ``field`` (``sinks.ws.port``) or of its nearest parent in the config file."""
        p = field
        while p and p not in self._lines:
            p = p.rpartition(".")[0]
        return self._lines.get(p)

    def error(self, message: str, field: str) -> Exception:
        """A :class:`~gesturekit.ConfigError` for ``field`` at its line."""
        from gesturekit._exceptions import ConfigError

        return ConfigError(message, file=self._path or None, line=self.line_of(field) if self._path else None,
                           field=field or None)

    # sections -------------------------------------------------------------------------------------
    def enabled_sinks(self) -> dict[str, SinkSection]:
        return {n: s for n, s in self.sinks.items() if s.enabled}

    def enabled_classifiers(self) -> dict[str, SectionSettings]:
        """The classifiers to build. The rules classifier (the YAML library plus ``gestures``) is
        there unless a section named ``rules`` turns it off."""
        out = {n: s for n, s in self.classifiers.items() if s.enabled}
        if "rules" not in self.classifiers:
            out = {"rules": SectionSettings(type="rules"), **out}
        rules = out.get("rules")
        if rules is not None and self.gestures:
            own = rules.options().get("gestures") or []
            own = [own] if isinstance(own, str) else list(own)
            out["rules"] = SectionSettings(**{**rules.model_dump(), "gestures": [*self.gestures, *own]})
        return out

    def enabled_observers(self) -> dict[str, SectionSettings]:
        return {n: s for n, s in self.observers.items() if s.enabled}

    def tracker_for(self, *, live: bool, mode: str | None) -> TrackerOptions:
        """The tracker options with the source's defaults (a live source is mirrored)."""
        return self.tracker.resolved(live=live, mode=mode)
