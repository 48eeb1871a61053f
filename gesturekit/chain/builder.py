"""The one builder: :class:`~gesturekit.settings.Settings` -> a running chain.

``source -> tracker -> classifiers -> temporal engine -> bus -> sinks`` (+ frame observers).
``run``, ``detect``, ``demo``, ``gestures explain`` and the daemon are thin shells over
:class:`Chain`; the daemon adds reload, signals, source supervision and a status endpoint.

Each plugin section (a sink, classifier, observer or plugin source) is validated against the
options model its factory declared (:func:`gesturekit.options`) and errors name the config's
file, line and field.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import pluggy

from gesturekit._exceptions import ConfigError, GestureKitError
from gesturekit.bus import EventBus
from gesturekit.chain.pipeline import Pipeline, PipelineResult
from gesturekit.chain.plugin_manager import collect_factories, get_plugin_manager
from gesturekit.settings.model import CORE_SINK_KEYS, SectionSettings, Settings, SourceSettings
from gesturekit.settings.plugin_options import options_model_of, validate_options
from gesturekit.sources import SourceItem, ThreadedReader, open_source, source_kind
from gesturekit.temporal import TemporalEngine
from gesturekit.tracking import TrackerOptions
from gesturekit.values import GestureEvent, TemporalSpec

__all__ = ["Chain", "ChainParts", "build_engine", "build_classifiers", "build_section", "build_sinks",
           "source_mode", "redact_secrets"]

log = logging.getLogger("gesturekit.chain")

#: Words that make a config key secret (matched against the key's ``_``/``-`` separated parts).
SECRET_WORDS = frozenset({"password", "passwd", "passphrase", "token", "secret", "key", "apikey", "credentials"})
REDACTED = "***"


def redact_secrets(value: Any) -> Any:
    """A copy of ``value`` with the values of secret-looking keys (``password``, ``token``,
    ``api_key``, ...) replaced by ``"***"`` (what plugins get in ``gesturekit_configure``)."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            secret = any(p in SECRET_WORDS for p in str(k).lower().replace("-", "_").split("_"))
            out[k] = REDACTED if secret and v is not None and not isinstance(v, (Mapping, list, tuple)) \
                else redact_secrets(v)
        return out
    if isinstance(value, (list, tuple)):
        return [redact_secrets(v) for v in value]
    return value


def source_mode(source: SourceSettings | None) -> str:
    """``image`` for still images (a file, folder or glob of them), else ``video``."""
    uri = source.uri if source is not None else None
    return "image" if uri and source_kind(uri) == "images" else "video"


def build_section(kind: str, name: str, section: SectionSettings | Mapping[str, Any], factories: Mapping[str, Any],
                  settings: Settings | None = None, *, defaults: Mapping[str, Any] | None = None,
                  drop: Iterable[str] = ("type", "enabled")) -> Any:
    """Build one named plugin section (``kind`` is ``sinks``, ``classifiers``, ``observers`` or
    ``source``) with its factory, its options validated by the factory's options model."""
    if isinstance(section, SectionSettings):
        typ, opts = section.type or name, {k: v for k, v in section.model_dump().items() if k not in drop}
    else:
        typ = str(section.get("type") or name)
        opts = {k: v for k, v in section.items() if k not in drop}
    prefix = f"{kind}.{name}" if kind != "source" else "source"
    factory = factories.get(typ)
    where = settings.error if settings is not None else (lambda msg, field: ConfigError(msg, field=field))
    if factory is None:
        raise where(f"unknown {kind[:-1] if kind != 'source' else 'source'} type {typ!r}; installed: "
                    f"{', '.join(sorted(factories)) or 'none'}", f"{prefix}.type")
    model = options_model_of(factory)
    if model is not None:
        for k, v in (defaults or {}).items():  # e.g. the tracker's view for classifiers that take it
            if k in model.model_fields and k not in opts:
                opts[k] = v
    try:
        if model is not None:
            context = {"base_dir": settings.base_dir if settings is not None else os.getcwd()}
            arg: Any = validate_options(model, opts, context=context)
        else:
            arg = opts
        return factory(arg)
    except ConfigError as e:
        msg = str(e)
        if e.field and msg.startswith(f"{e.field}: "):
            msg = msg[len(e.field) + 2:]
        raise where(msg, f"{prefix}.{e.field}" if e.field else prefix) from None
    except GestureKitError:
        raise
    except (ValueError, TypeError, KeyError) as e:
        raise where(f"{type(e).__name__}: {e}", prefix) from None


def build_engine(classifiers: Mapping[str, Any], source: str = "", instant: bool = False,
                 settings: Settings | None = None) -> TemporalEngine:
    """The temporal engine: per-gesture timing from every classifier with ``temporal_specs()``,
    then the config's ``temporal`` overrides; other gestures get the default.

    ``instant`` (independent still images) drops the minimum duration, so that a gesture seen in
    one image starts at once; the pipeline ends it with the image.
    """
    specs: dict[str, TemporalSpec] = {}
    for name, clf in classifiers.items():
        get = getattr(clf, "temporal_specs", None)
        if not callable(get):
            continue
        for gesture, spec in dict(get() or {}).items():
            if gesture in specs and specs[gesture] != spec:
                log.warning("classifier %r sets other timing for %r than an earlier classifier; using %r's",
                            name, gesture, name)
            specs[gesture] = spec
    default = TemporalSpec()
    if settings is not None:
        t = settings.temporal
        every = t.overrides()
        default = replace(default, **every)
        specs = {g: replace(s, **every) for g, s in specs.items()}
        for g, over in t.gestures.items():
            specs[g] = replace(specs.get(g, default), **over.overrides())
    if instant:
        specs = {g: replace(s, min_duration=0.0) for g, s in specs.items()}
        default = replace(default, min_duration=0.0)
    return TemporalEngine(specs, default=default, source=source)


def build_classifiers(pm: pluggy.PluginManager, mirrored: bool = False, settings: Settings | None = None) -> dict:
    """The classifiers of ``settings`` (default settings: the ``rules`` classifier with the
    built-in library). Classifiers whose options have a ``mirrored`` field get the tracker's
    view unless their section sets it."""
    settings = settings or Settings()
    factories = collect_factories(pm, "classifiers")
    return {name: build_section("classifiers", name, sec, factories, settings, defaults={"mirrored": bool(mirrored)})
            for name, sec in settings.enabled_classifiers().items()
            if sec.type not in (None, "rules") or "rules" in factories}


def build_sinks(pm: pluggy.PluginManager, settings: Settings, names: Iterable[str] | None = None) -> dict[str, Any]:
    """Construct (not open) the named sinks of ``settings``; constructing validates them."""
    factories = collect_factories(pm, "sinks")
    sinks = settings.enabled_sinks()
    return {n: build_section("sinks", n, sinks[n], factories, settings, drop=CORE_SINK_KEYS)
            for n in (names if names is not None else list(sinks))}


@dataclass
class ChainParts:
    """What a chain processes frames with (a daemon reload swaps in new ones)."""

    tracker: TrackerOptions
    classifiers: dict[str, Any]
    engine: TemporalEngine
    observers: dict[str, Any]


class Chain:
    """Settings -> source, pipeline (tracker, classifiers, temporal engine, observers), bus and sinks.

    Everything that can be checked is built (not opened) in the constructor, so a bad section
    fails before a camera or a port is touched::

        chain = Chain(load_settings("daemon.yaml"))
        with chain:
            for result in chain.run():
                ...

    :param default_sink: sink type used when the settings name no sink (``run``: ``stdout``).
    :param pm: a plugin manager to share (its failure counts live for the whole process).
    """

    def __init__(self, settings: Settings, pm: pluggy.PluginManager | None = None, *,
                 default_sink: str | None = None) -> None:
        self.settings = settings
        self.pm = pm if pm is not None else get_plugin_manager(settings.plugin_paths)
        self._check_plugin_sections()
        if default_sink and not settings.enabled_sinks():
            from gesturekit.settings.model import SinkSection

            # the default sink of a front end (stdout) must not drop events of a fast file source
            settings.sinks[default_sink] = SinkSection(type=default_sink, durable=True)
        self.mode = settings.tracker.mode or source_mode(settings.source)
        self.sinks = build_sinks(self.pm, settings)
        self.parts = self.build_parts(settings)
        self.bus: EventBus | None = None
        self.pipeline: Pipeline | None = None
        self.reader: ThreadedReader | None = None
        self.source: Any = None
        self.frames = 0
        self.events = 0

    # building -----------------------------------------------------------------------------------
    def _check_plugin_sections(self) -> None:
        names = {n for n, _ in self.pm.list_name_plugin()}
        for name in self.settings.plugins:
            if name not in names:
                raise self.settings.error(f"no plugin named {name!r} is installed or loaded (plugins: "
                                          f"{', '.join(sorted(names)) or 'none'})", f"plugins.{name}")

    def build_parts(self, settings: Settings) -> ChainParts:
        """Tracker options, classifiers, temporal engine and observers for ``settings``."""
        src = settings.source
        live = src.live if src is not None else False
        mode = settings.tracker.mode or source_mode(src)
        tracker = settings.tracker_for(live=live, mode=mode)
        classifiers = build_classifiers(self.pm, tracker.mirrored, settings)
        label = src.label if src is not None else ""
        engine = build_engine(classifiers, source=label, instant=mode == "image", settings=settings)
        factories = collect_factories(self.pm, "observers")
        observers = {n: build_section("observers", n, sec, factories, settings)
                     for n, sec in settings.enabled_observers().items()}
        return ChainParts(tracker, classifiers, engine, observers)

    def make_pipeline(self, parts: ChainParts | None = None) -> Pipeline:
        parts = parts or self.parts
        label = self.settings.source.label if self.settings.source is not None else ""
        return Pipeline(self.pm, parts.tracker, classifiers=parts.classifiers, engine=parts.engine,
                        source_name=label, observers=parts.observers)

    def open_source(self) -> Any:
        """Open the configured source (a plugin source through its factory)."""
        src = self.settings.source
        if src is None:
            raise ConfigError("no source: give --source SRC or a source section", file=self.settings.path or None)
        if src.type is not None:
            factories = collect_factories(self.pm, "sources")
            return build_section("source", "source", {"type": src.type, **src.options()}, factories, self.settings)
        return open_source(src.uri or "", realtime=src.realtime, reconnect=src.reconnect, max_pixels=src.max_pixels)

    # running ------------------------------------------------------------------------------------
    def open_sinks(self, bus: EventBus | None = None) -> EventBus:
        """Put every sink on an event bus (opening them; a sink that cannot start raises)."""
        b = self.settings.bus
        self.bus = bus or EventBus(queue_size=b.queue_size, frame_rate=b.frame_rate)
        for name, sink in self.sinks.items():
            self.add_sink(name, sink)
        return self.bus

    def add_sink(self, name: str, sink: Any, settings: Settings | None = None) -> None:
        sec = (settings or self.settings).enabled_sinks()[name]
        assert self.bus is not None
        self.bus.add_sink(name, sink, queue_size=sec.queue_size, durable=sec.durable)

    def start(self) -> None:
        """Open the sinks and tell the plugins (``gesturekit_configure``, ``gesturekit_startup``)."""
        self.open_sinks()
        raw = redact_secrets(self.settings.raw or self.settings.model_dump(mode="json"))
        self.pm.hook.gesturekit_configure(config=raw, plugin_config=dict(self.settings.plugins))
        self.pipeline = self.make_pipeline()
        self.pipeline.startup()

    def emit(self, events: Iterable[GestureEvent]) -> None:
        """Hand events to the ``gesturekit_event`` hooks and the bus."""
        hook = self.pm.hook.gesturekit_event
        for ev in events:
            self.events += 1
            hook(event=ev)
            if self.bus is not None:
                self.bus.publish(ev)

    def step(self, item: SourceItem, pipeline: Pipeline | None = None) -> PipelineResult:
        """One source item through the pipeline; its events go out (what every front end does per frame)."""
        pipe = pipeline or self.pipeline
        assert pipe is not None, "call start() first"
        result = pipe.step(item)
        self.frames += 1
        self.emit(result.events)
        if self.bus is not None:
            self.bus.publish_frame(result.frame)
        return result

    def finish(self, t: float, pipeline: Pipeline | None = None) -> list[GestureEvent]:
        """The ``end`` of every gesture still active (sent out too)."""
        pipe = pipeline or self.pipeline
        if pipe is None or pipe.engine is None:
            return []
        tail = pipe.engine.finish(t)
        self.emit(tail)
        return tail

    def run(self, items: Iterable[SourceItem] | None = None, max_frames: int | None = None) -> Iterator[PipelineResult]:
        """Process the source (or ``items``) to its end or ``max_frames``; the last result carries
        the ``end`` of gestures still active (``tail=True``)."""
        if self.pipeline is None:
            self.start()
        limit = max_frames or (self.settings.source.max_frames if self.settings.source else None)
        if items is None:
            self.source = self.open_source()
            self.reader = self.parallel_reader(self.source, limit) or ThreadedReader(self.source)
            items = self.reader
        last = None
        for n, item in enumerate(items):
            if limit is not None and n >= limit:
                break
            result = self.step(item)
            last = result.frame
            yield result
        if last is not None and self.mode != "image":
            tail = self.finish(last.t)
            if tail:
                yield PipelineResult(last, [], tail, tail=True)

    def parallel_reader(self, source: Any, max_frames: int | None = None) -> Any:
        """A reader that tracks a video file on ``parallel.workers`` threads (frames come out tracked,
        in order; :mod:`gesturekit.tracking.parallel`; one worker tracks on a thread of its own), or
        ``None`` for a source that is not a video file (tracked on this thread)."""
        if self.mode != "video" or self.pipeline is None:
            return None
        from gesturekit.tracking.parallel import parallel_reader

        p = self.settings.parallel
        label = self.settings.source.label if self.settings.source is not None else ""
        images = self.needs_images() if p.images is None else p.images
        return parallel_reader(source, self.pipeline.tracker_options, p.workers, warmup=p.warmup,
                               max_frames=max_frames, source_name=label, exact=p.exact, sync=p.sync,
                               images=images)

    def needs_images(self) -> bool:
        """Whether anything downstream looks at a frame's pixels: an observer, or a plugin's
        ``gesturekit_frame`` hook (``parallel.images`` overrides this)."""
        if self.pipeline is None:
            return True
        return bool(self.pipeline.observers) or bool(self.pm.hook.gesturekit_frame.get_hookimpls())

    @property
    def dropped(self) -> int:
        """Frames a live source dropped to keep up."""
        return int(getattr(self.reader, "dropped", 0) or 0)

    def close(self) -> None:
        """Stop: close the reader and source, tell the plugins, drain and close the sinks."""
        errors: list[BaseException] = []
        for step in (self._close_reader, self._shutdown_pipeline, self._close_bus):
            try:
                step()
            except Exception as e:  # every step runs; the first error is raised after
                errors.append(e)
        if errors:
            raise errors[0]

    def _close_reader(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None
        if self.source is not None:
            self.source.close()
            self.source = None

    def _shutdown_pipeline(self) -> None:
        if self.pipeline is not None:
            try:
                self.pipeline.shutdown()
            finally:
                self.pipeline.close()
                self.pipeline = None

    def _close_bus(self) -> None:
        if self.bus is not None:
            self.bus.close(self.settings.bus.drain_timeout)
            self.bus = None

    def __enter__(self) -> Chain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


