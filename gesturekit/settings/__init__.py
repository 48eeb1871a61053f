"""The one settings model (:class:`Settings`) and its loaders; plugin options models."""

from gesturekit.settings.load import load_settings, settings_from_mapping, with_overrides
from gesturekit.settings.model import Settings, SinkSection, SourceSettings
from gesturekit.settings.plugin_options import ConfigPath, PluginOptions, options, validate_options

__all__ = ["Settings", "SourceSettings", "SinkSection", "load_settings", "settings_from_mapping", "with_overrides",
           "PluginOptions", "options", "ConfigPath", "validate_options"]
