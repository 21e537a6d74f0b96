"""The plugin registry: entry points, failures, blocking, duplicates, invalid registrations."""

from __future__ import annotations

import pytest

from fpgrade.errors import PluginError, UnknownModelError, UnknownScaleError
from fpgrade.registry import get_registry, load_registry

SCALE_PLUGIN = """
from fpgrade.hookspecs import hookimpl
from fpgrade.scales import GradingScale, Level

@hookimpl
def register_scales(register):
    register(GradingScale("{scale_id}", "Test", "test", (Level("a", "A"), Level("b", "B"))))
"""


def test_built_in_plugins_load_through_the_entry_point_group(registry, fpgrade_entry_points):
    built_in = {ep.name: ep for ep in fpgrade_entry_points() if ep.dist.name == "fpgrade"}
    assert {"house_brackmann", "severity3", "sided7", "palsy_binary", "mouth_motion"} <= set(built_in)
    for name, ep in built_in.items():
        info = registry.plugins[name]
        assert info.distribution == "fpgrade" and info.module == ep.value
        assert info.module.startswith("fpgrade_plugins.")
    assert registry.plugins["sided7"].scales == ["sided7"]
    assert registry.failures == []


def test_a_third_party_plugin_appears(install_plugin):
    install_plugin("extra", SCALE_PLUGIN.format(scale_id="extra_scale"), version="3.1")
    registry = get_registry()
    assert registry.plugins["extra"].version == "3.1"
    assert registry.plugins["extra"].scales == ["extra_scale"]
    assert registry.scale("extra_scale").codes == ("a", "b")


def test_a_plugin_that_fails_to_import_is_reported_and_the_others_load(install_plugin):
    install_plugin("broken", "import a_module_that_does_not_exist\n")
    install_plugin("fine", SCALE_PLUGIN.format(scale_id="fine_scale"))
    registry = get_registry()
    (failure,) = registry.failures
    assert failure.name == "broken"
    assert "ModuleNotFoundError" in failure.error and "a_module_that_does_not_exist" in failure.error
    assert "fine_scale" in registry.scales and "house_brackmann" in registry.scales


def test_a_hook_that_raises_is_reported_and_the_others_load(install_plugin):
    install_plugin(
        "raises",
        """
        from fpgrade.hookspecs import hookimpl
        @hookimpl
        def register_scales(register):
            raise RuntimeError("scale table missing")
        """,
    )
    registry = get_registry()
    assert [(f.name, f.error) for f in registry.failures] == [
        ("raises", "its register_scales hook raised RuntimeError: scale table missing")
    ]
    assert "sided7" in registry.scales
    assert registry.plugins["raises"].status == "failed"


def test_registering_something_that_is_not_a_scale_or_model_is_reported(install_plugin):
    install_plugin(
        "wrong",
        """
        from fpgrade.hookspecs import hookimpl
        @hookimpl
        def register_scales(register):
            register({"id": "not_a_scale"})
        """,
    )
    install_plugin(
        "wrong_model",
        """
        from fpgrade.hookspecs import hookimpl
        @hookimpl
        def register_models(register):
            register(object)
        """,
    )
    errors = {f.name: f.error for f in get_registry().failures}
    assert errors["wrong"] == ("its register_scales hook registered {'id': 'not_a_scale'}, "
                               "not a GradingScale or a CompositeScale")
    assert "not a GradingModel class" in errors["wrong_model"]


def test_a_plugin_is_left_out_whole_and_the_models_needing_its_scale_go_with_it(install_plugin):
    """A plugin with a good scale and a bad model registers neither; another plugin's model that
    needed only that scale is left out in the next round, with its own reason."""
    install_plugin(
        "half",
        """
        from fpgrade.hookspecs import hookimpl
        from fpgrade.scales import GradingScale, Level
        @hookimpl
        def register_scales(register):
            register(GradingScale("half_scale", "Half", "test", (Level("a", "A"), Level("b", "B"))))
        @hookimpl
        def register_models(register):
            raise RuntimeError("weights table missing")
        """,
    )
    install_plugin(
        "user",
        """
        from fpgrade.hookspecs import hookimpl
        from fpgrade.model_api import GradingModel, ModelCard
        class User(GradingModel):
            card = ModelCard(id="user_model", name="U", paper="test", scales=("half_scale",))
            input_keys = ("face_224",)
            input_layouts = {"face_224": "image"}
            @classmethod
            def build(cls, scale=None, **options):
                raise AssertionError("never built")
        @hookimpl
        def register_models(register):
            register(User)
        """,
    )
    registry = get_registry()
    errors = {f.name: f.error for f in registry.failures}
    assert errors["half"] == "its register_models hook raised RuntimeError: weights table missing"
    assert errors["user"].startswith("model 'user_model' names the scale 'half_scale' on its card")
    assert "half_scale" not in registry.scales and "user_model" not in registry.models
    assert registry.plugins["half"].scales == [] and "sided7" in registry.scales


def test_a_duplicate_id_leaves_the_later_plugin_out_naming_both_modules(install_plugin):
    install_plugin("copycat", SCALE_PLUGIN.format(scale_id="sided7"), module="copycat_scales")
    registry = get_registry()
    (failure,) = registry.failures
    assert failure.name == "copycat"
    assert "scale id 'sided7' is registered twice" in failure.error
    assert "fpgrade_plugins.scales.sided7" in failure.error and "copycat_scales" in failure.error
    assert registry.scale("sided7").codes[0] == "N"  # the built-in keeps its id
    assert registry.plugins["sided7"].scales == ["sided7"]


def test_a_third_party_named_before_a_built_in_still_cannot_take_its_id(install_plugin):
    install_plugin("aaa_first", SCALE_PLUGIN.format(scale_id="sided7"))
    registry = get_registry()
    assert [f.name for f in registry.failures] == ["aaa_first"]
    assert registry.scale("sided7").codes[0] == "N"


def test_disabled_plugins_are_blocked_by_name(install_plugin, monkeypatch):
    install_plugin("extra", SCALE_PLUGIN.format(scale_id="extra_scale"))
    monkeypatch.setenv("FPGRADE_DISABLE_PLUGINS", "extra, mouth_motion")
    from fpgrade.settings import get_settings

    get_settings.cache_clear()
    registry = load_registry()
    assert sorted(registry.blocked) == ["extra", "mouth_motion"]
    assert "extra_scale" not in registry.scales and "mouth_motion" not in registry.scales
    assert registry.plugin_manager.is_blocked("extra")
    assert "house_brackmann" in registry.scales


def test_disabling_one_of_two_duplicates_resolves_the_clash(install_plugin):
    install_plugin("copycat", SCALE_PLUGIN.format(scale_id="sided7"))
    registry = load_registry(disabled={"sided7"})
    assert registry.scale("sided7").codes == ("a", "b")


def test_a_misspelt_hook_is_refused(install_plugin):
    install_plugin(
        "typo",
        """
        from fpgrade.hookspecs import hookimpl
        @hookimpl
        def register_scale(register):
            pass
        """,
    )
    registry = get_registry()
    (failure,) = registry.failures
    assert failure.name == "typo"
    assert failure.error.startswith("implements register_scale, which is not a hook of fpgrade")
    assert "sided7" in registry.scales


def test_unknown_ids_name_the_known_ones(registry):
    with pytest.raises(UnknownScaleError, match="unknown scale 'hb'.*house_brackmann"):
        registry.scale("hb")
    with pytest.raises(UnknownModelError, match="unknown model 'nope'"):
        registry.model("nope")
    with pytest.raises(PluginError, match="unknown preprocessor 'nope'"):
        registry.preprocessor("nope")
