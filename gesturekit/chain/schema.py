"""JSON Schema of a config file, generated from the settings model and the options models of the
installed factories (so a plugin's sink gets completion in an editor too)."""

from __future__ import annotations

from typing import Any, Literal, Union

import pluggy
from pydantic import BaseModel, ConfigDict, Field, create_model

from gesturekit.settings.model import SectionSettings, Settings, SinkSection
from gesturekit.settings.plugin_options import options_model_of

__all__ = ["config_json_schema"]


def _section_model(kind: str, name: str, options: type[BaseModel] | None, base: type[BaseModel]) -> type[BaseModel]:
    core = {"type": (Literal[name] | None, Field(None, description=f"{name} (default: the section's name)")),
            "enabled": (bool, True)}
    if base is SinkSection:
        core["queue_size"] = (int | None, Field(None, ge=1))
        core["durable"] = (bool | None, None)
    if options is None:  # a factory without an options model: anything goes beside the core keys
        return create_model(f"{kind}_{name}", __config__=ConfigDict(extra="allow"), **core)
    return create_model(f"{kind}_{name}", __base__=options, **core)


def config_json_schema(pm: pluggy.PluginManager) -> dict[str, Any]:
    """The JSON Schema of a gesturekit config (``gesturekit schema config``)."""
    from gesturekit.chain.plugin_manager import collect_factories

    fields: dict[str, Any] = {}
    for key, kind, base in (("sinks", "sinks", SinkSection), ("classifiers", "classifiers", SectionSettings),
                            ("observers", "observers", SectionSettings)):
        factories = collect_factories(pm, kind)
        models = [_section_model(kind, n, options_model_of(f), base) for n, f in sorted(factories.items())]
        if models:
            union = Union[tuple(models)]  # noqa: UP007 - a runtime union of generated models
            fields[key] = (dict[str, union], Field(default_factory=dict, description=Settings.model_fields[key]
                                                   .description))
    model = create_model("GesturekitConfig", __base__=Settings, **fields)
    schema = model.model_json_schema()
    # `source: 0` and `source: clip.mp4` are shorthands for {uri: ...}
    schema["properties"]["source"]["anyOf"][1:1] = [{"type": "integer", "minimum": 0}, {"type": "string"}]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "title": "gesturekit config"}
