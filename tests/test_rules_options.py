"""The ``rules`` classifier's options model: defaults, paths, errors located at the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from gesturekit_plugins.rules_classifier import RulesOptions, make_rules_classifier

from gesturekit import ConfigError
from gesturekit.chain.plugin_manager import collect_factories, get_plugin_manager
from gesturekit.classifiers.rules import load_library
from gesturekit.settings import validate_options

WAVE = "gesturekit: 1\nname: index_only\npose: {fingers: {index: extended, middle: curled}}\n"


def test_factory_declares_its_model_and_defaults_are_unchanged():
    factory = collect_factories(get_plugin_manager(entrypoints=False), "classifiers")["rules"]
    assert factory.options_model is RulesOptions
    opts = RulesOptions()
    assert (opts.gestures, opts.builtin, opts.mirrored) == ([], True, False)
    builtin = {d.name for d in load_library()}
    assert set(make_rules_classifier(opts).names) == builtin  # what the builder passes
    assert set(make_rules_classifier().names) == builtin
    assert set(make_rules_classifier({"type": "rules"}).names) == builtin  # a whole section as a dict
    assert make_rules_classifier({"mirrored": True}).extractor.mirrored is True
    assert all(f.description for f in RulesOptions.model_fields.values())
    assert RulesOptions.model_json_schema()["additionalProperties"] is False


def test_gestures_one_or_many_and_relative_to_the_config(tmp_path):
    (tmp_path / "wave.yaml").write_text(WAVE)
    for gestures in (str(tmp_path / "wave.yaml"), tmp_path / "wave.yaml", [tmp_path / "wave.yaml"]):
        clf = make_rules_classifier({"gestures": gestures, "builtin": False})
        assert clf.names == ("index_only",)
    opts = validate_options(RulesOptions, {"gestures": ["wave.yaml"]}, context={"base_dir": str(tmp_path)})
    assert opts.gestures == [str(tmp_path / "wave.yaml")]
    assert Path(opts.gestures[0]).is_file()


@pytest.mark.parametrize(("config", "field", "message"), [
    ({"gesturez": []}, "gesturez", "unknown setting"),
    ({"gestures": {"a": 1}}, "gestures", "list of files or folders"),
    ({"gestures": ["ok.yaml", 3]}, "gestures.1", "string"),
    ({"builtin": "yes"}, "builtin", "boolean"),
    ({"mirrored": 1}, "mirrored", "boolean"),
])
def test_errors_name_the_field(config, field, message):
    with pytest.raises(ConfigError) as ei:
        make_rules_classifier(config)
    assert ei.value.field == field and message in str(ei.value)
